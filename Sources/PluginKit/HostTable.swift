import PluginAPI

/// A Swift plugin's view of the host table it was created with.
///
/// THREAD: every method may be called from any task or thread, concurrently.
/// OWNERSHIP: the table belongs to the host and stays valid until the instance is destroyed;
/// this wrapper only keeps the pointer.
public struct HostTable: @unchecked Sendable {
    /// The table as the host handed it over.
    public let raw: UnsafePointer<tokenhub_host>

    /// The host's `host_cancel` (ABI 1.3) as a cancel hook, nil from an older host. Made once.
    private let cancelHook: CancelHook?

    /// Wraps the table the host passed to `create`.
    public init(_ raw: UnsafePointer<tokenhub_host>) {
        self.raw = raw
        let end = MemoryLayout<tokenhub_host>.offset(of: \.host_cancel)! + MemoryLayout<UnsafeRawPointer>.size
        if raw.pointee.struct_size >= end, let cancel = raw.pointee.host_cancel {
            cancelHook = CancelHook(target: HostCanceller(cancel: cancel, context: CUserData(raw.pointee.host_context)))
        } else {
            cancelHook = nil
        }
    }

    /// The instance's configured name (ABI 1.3); nil from an older host, whose table ends
    /// before the field.
    public var instanceName: String? {
        let end = MemoryLayout<tokenhub_host>.offset(of: \.instance_name)! + MemoryLayout<tokenhub_slice>.size
        guard UnsafeRawPointer(raw).loadUnaligned(as: Int.self) >= end else { return nil }  // struct_size, read alone
        let slice = UnsafeRawPointer(raw).advanced(by: MemoryLayout<tokenhub_host>.offset(of: \.instance_name)!)
            .loadUnaligned(as: tokenhub_slice.self)
        guard let bytes = slice.ptr else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: slice.len), as: UTF8.self)
    }

    /// Writes a line to the host's log.
    public func log(_ level: LogLevel, _ message: String) {
        withSlice(message) { raw.pointee.host_log(raw.pointee.host_context, level.rawValue, $0) }
    }

    /// Publishes an event (a JSON object with a "type") on the host's event bus.
    public func emitEvent(_ eventJSON: [UInt8]) {
        withSlice(eventJSON) { raw.pointee.host_emit_event(raw.pointee.host_context, $0) }
    }

    /// Records a metric; `labelsJSON` is a flat JSON object or empty.
    public func recordMetric(_ kind: MetricKind, name: String, labelsJSON: String = "", value: Double) {
        withSlice(name) { name in
            withSlice(labelsJSON) { labels in
                raw.pointee.host_metric_record(raw.pointee.host_context, kind.rawValue, name, labels, value)
            }
        }
    }

    /// Routes and sends a chat request (ChatInput JSON) through the engine; replies with ChatOutput JSON.
    public func routeAndSend(_ chatInputJSON: [UInt8]) async -> PluginReply {
        await call(raw.pointee.host_route_and_send, chatInputJSON, label: "host_route_and_send")
    }

    /// Runs an orchestration (OrchestrationInput JSON); replies with ChatOutput JSON.
    public func orchestrate(_ orchestrationInputJSON: [UInt8]) async -> PluginReply {
        await call(raw.pointee.host_orchestrate, orchestrationInputJSON, label: "host_orchestrate")
    }

    /// Records a request's outcome (LogResult JSON) once per request id.
    public func logResult(_ logResultJSON: [UInt8]) async -> PluginReply {
        await call(raw.pointee.host_log_result, logResultJSON, label: "host_log_result")
    }

    private typealias AsyncHostCall = @convention(c) (
        UnsafeMutableRawPointer?, tokenhub_slice, tokenhub_completion_fn?, UnsafeMutableRawPointer?
    ) -> Void

    /// Calls the host through the shared bridge (`PendingReplies`: a token as the user data)
    /// and waits for its completion. Cancelling the waiting task cancels the host call
    /// (`host_cancel`, when the host has it) and answers `TOKENHUB_ERR_CANCELLED` at once.
    private func call(_ function: AsyncHostCall?, _ input: [UInt8], label: String) async -> PluginReply {
        guard let function else {
            return .failure(.notSupported, "the host does not offer this call")
        }
        let context = raw.pointee.host_context
        return await PendingReplies.shared.call(label: CallLabel("host", label), deadline: nil, cancel: cancelHook) { done, userData in
            withSlice(input) { function(context, $0, done, userData) }
        }
    }
}

/// Cancels a host call by its user data, through the host table's `host_cancel`.
final class HostCanceller: CancellableCalls {
    let cancel: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void
    let context: CUserData

    init(cancel: @escaping @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void, context: CUserData) {
        self.cancel = cancel
        self.context = context
    }

    func cancelCall(_ userData: UnsafeMutableRawPointer) { cancel(context.pointer, userData) }
}
