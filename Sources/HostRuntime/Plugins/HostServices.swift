import PluginAPI
import PluginKit

/// What the host offers plugins through the host table. The gateway implements it with the
/// engine, the logger and the result logger; tests implement it with fakes.
///
/// THREAD: every method is called from any thread, concurrently.
public protocol HostServices: Sendable {
    /// A plugin's log line.
    func log(plugin: String, level: LogLevel, message: String)
    /// A plugin's event (JSON object with a "type").
    func emitEvent(plugin: String, eventJSON: [UInt8])
    /// A plugin's metric.
    func recordMetric(plugin: String, kind: MetricKind, name: String, labelsJSON: String, value: Double)
    /// Route and send one chat request: ChatInput JSON in, ChatOutput JSON out.
    func routeAndSend(_ chatInputJSON: [UInt8]) async -> PluginReply
    /// Run one orchestration: OrchestrationInput JSON in, ChatOutput JSON out.
    func orchestrate(_ orchestrationInputJSON: [UInt8]) async -> PluginReply
    /// Record one request's outcome (LogResult JSON), once per request id. Queues the write and
    /// returns: never waits on I/O, so the host completes `log_result` before returning.
    func logResult(_ logResultJSON: [UInt8]) -> PluginReply
}

/// The `tokenhub_host` table handed to one plugin instance, and the context behind it.
///
/// OWNERSHIP: the table and its context live until `release()`, which the owner calls only
/// after the instance's `destroy` returned (the ABI promises no call after that).
final class HostTableBox: @unchecked Sendable {
    /// Who is calling, what to call, and the calls it has running (for `host_cancel`).
    final class Context: Sendable {
        let pluginName: String
        let services: any HostServices
        let running = RunningCalls()
        init(pluginName: String, services: any HostServices) {
            self.pluginName = pluginName
            self.services = services
        }
    }

    let table: UnsafeMutablePointer<tokenhub_host>
    private let context: Unmanaged<Context>
    /// `instance_name`'s bytes, owned with the table.
    private let nameBytes: UnsafeMutableBufferPointer<UInt8>

    init(pluginName: String, services: any HostServices) {
        context = Unmanaged.passRetained(Context(pluginName: pluginName, services: services))
        nameBytes = .allocate(capacity: max(1, pluginName.utf8.count))
        _ = nameBytes.initialize(from: pluginName.utf8)
        table = .allocate(capacity: 1)
        table.initialize(to: tokenhub_host(
            struct_size: MemoryLayout<tokenhub_host>.size,
            abi_major: UInt32(TOKENHUB_ABI_MAJOR),
            abi_minor: UInt32(TOKENHUB_ABI_MINOR),
            host_context: context.toOpaque(),
            host_log: hostLog,
            host_emit_event: hostEmitEvent,
            host_metric_record: hostMetricRecord,
            host_route_and_send: hostRouteAndSend,
            host_orchestrate: hostOrchestrate,
            host_log_result: hostLogResult,
            instance_name: tokenhub_slice(ptr: UnsafePointer(nameBytes.baseAddress), len: pluginName.utf8.count),
            host_cancel: hostCancel,
            host_json_get: hostJSONGet,
            host_json_set: hostJSONSet,
            host_chat_error: hostChatError
        ))
    }

    func release() {
        table.deinitialize(count: 1)
        table.deallocate()
        nameBytes.deallocate()
        context.release()
    }

    static func context(_ raw: UnsafeMutableRawPointer?) -> Context {
        Unmanaged<Context>.fromOpaque(raw!).takeUnretainedValue()
    }
}

private let hostLog: @convention(c) (UnsafeMutableRawPointer?, tokenhub_log_level, tokenhub_slice) -> Void = {
    let context = HostTableBox.context($0)
    context.services.log(plugin: context.pluginName, level: LogLevel(code: $1), message: $2.string)
}

private let hostEmitEvent: @convention(c) (UnsafeMutableRawPointer?, tokenhub_slice) -> Void = {
    let context = HostTableBox.context($0)
    context.services.emitEvent(plugin: context.pluginName, eventJSON: $1.bytes)
}

private let hostMetricRecord: @convention(c) (
    UnsafeMutableRawPointer?, tokenhub_metric_kind, tokenhub_slice, tokenhub_slice, Double
) -> Void = {
    let context = HostTableBox.context($0)
    guard let kind = MetricKind(code: $1) else { return }  // not a kind the ABI defines: dropped
    context.services.recordMetric(plugin: context.pluginName, kind: kind, name: $2.string, labelsJSON: $3.string, value: $4)
}

private typealias AsyncHostFunction = @convention(c) (
    UnsafeMutableRawPointer?, tokenhub_slice, tokenhub_completion_fn?, UnsafeMutableRawPointer?
) -> Void

private let hostRouteAndSend: AsyncHostFunction = { serveHostCall($0, $1, $2, $3) { await $0.routeAndSend($1) } }
private let hostOrchestrate: AsyncHostFunction = { serveHostCall($0, $1, $2, $3) { await $0.orchestrate($1) } }
/// Completes before returning (the ABI allows it): recording only queues, and a task per
/// record would cost every request a scheduling round trip.
private let hostLogResult: AsyncHostFunction = { rawContext, input, done, userData in
    let reply = HostTableBox.context(rawContext).services.logResult(input.bytes)
    if let done { reply.deliver(to: done, userData: userData) }
}

/// Copies the borrowed input, returns at once, completes `done` from a task that
/// `host_cancel` can reach through the call's user data.
private func serveHostCall(
    _ rawContext: UnsafeMutableRawPointer?, _ input: tokenhub_slice, _ done: tokenhub_completion_fn?,
    _ userData: UnsafeMutableRawPointer?,
    _ work: @escaping @Sendable (any HostServices, [UInt8]) async -> PluginReply
) {
    let context = HostTableBox.context(rawContext)
    let services = context.services
    let bytes = input.bytes
    context.running.serve(done, userData) { await work(services, bytes) }
}

private let hostCancel: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { rawContext, userData in
    HostTableBox.context(rawContext).running.cancel(userData)
}

private let hostJSONGet: @convention(c) (
    UnsafeMutableRawPointer?, tokenhub_slice, tokenhub_slice, UnsafeMutablePointer<UInt8>?, Int
) -> Int64 = { _, json, pointer, out, capacity in
    JSONHelpers.get(json: json.bytes, pointer: pointer.string).write(to: out, capacity: capacity)
}

private let hostJSONSet: @convention(c) (
    UnsafeMutableRawPointer?, tokenhub_slice, tokenhub_slice, tokenhub_slice, UnsafeMutablePointer<UInt8>?, Int
) -> Int64 = { _, json, pointer, value, out, capacity in
    JSONHelpers.set(json: json.bytes, pointer: pointer.string, value: value.bytes).write(to: out, capacity: capacity)
}

private let hostChatError: @convention(c) (
    UnsafeMutableRawPointer?, tokenhub_slice, tokenhub_slice, UnsafeMutablePointer<UInt8>?, Int
) -> Int64 = { _, errorClass, message, out, capacity in
    JSONHelpers.chatError(errorClass: errorClass.string, message: message.string).write(to: out, capacity: capacity)
}
