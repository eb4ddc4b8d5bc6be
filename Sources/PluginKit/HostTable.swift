import PluginAPI

/// A Swift plugin's view of the host table it was created with.
///
/// THREAD: every method may be called from any task or thread, concurrently.
/// OWNERSHIP: the table belongs to the host and stays valid until the instance is destroyed;
/// this wrapper only keeps the pointer.
public struct HostTable: @unchecked Sendable {
    /// The table as the host handed it over.
    public let raw: UnsafePointer<tokenhub_host>

    /// Wraps the table the host passed to `create`.
    public init(_ raw: UnsafePointer<tokenhub_host>) {
        self.raw = raw
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
    public func log(_ level: tokenhub_log_level, _ message: String) {
        withSlice(message) { raw.pointee.host_log(raw.pointee.host_context, level, $0) }
    }

    /// Publishes an event (a JSON object with a "type") on the host's event bus.
    public func emitEvent(_ eventJSON: [UInt8]) {
        withSlice(eventJSON) { raw.pointee.host_emit_event(raw.pointee.host_context, $0) }
    }

    /// Records a metric; `labelsJSON` is a flat JSON object or empty.
    public func recordMetric(_ kind: tokenhub_metric_kind, name: String, labelsJSON: String = "", value: Double) {
        withSlice(name) { name in
            withSlice(labelsJSON) { labels in
                raw.pointee.host_metric_record(raw.pointee.host_context, kind, name, labels, value)
            }
        }
    }

    /// Routes and sends a chat request (ChatInput JSON) through the engine; replies with ChatOutput JSON.
    public func routeAndSend(_ chatInputJSON: [UInt8]) async -> PluginReply {
        await call(raw.pointee.host_route_and_send, chatInputJSON)
    }

    /// Runs an orchestration (OrchestrationInput JSON); replies with ChatOutput JSON.
    public func orchestrate(_ orchestrationInputJSON: [UInt8]) async -> PluginReply {
        await call(raw.pointee.host_orchestrate, orchestrationInputJSON)
    }

    /// Records a request's outcome (LogResult JSON) once per request id.
    public func logResult(_ logResultJSON: [UInt8]) async -> PluginReply {
        await call(raw.pointee.host_log_result, logResultJSON)
    }

    private typealias AsyncHostCall = @convention(c) (
        UnsafeMutableRawPointer?, tokenhub_slice, tokenhub_completion_fn?, UnsafeMutableRawPointer?
    ) -> Void

    private func call(_ function: AsyncHostCall?, _ input: [UInt8]) async -> PluginReply {
        guard let function else {
            return .failure(.notSupported, "the host does not offer this call")
        }
        let context = raw.pointee.host_context
        return await withCheckedContinuation { continuation in
            let box = Unmanaged.passRetained(ReplyContinuation(continuation)).toOpaque()
            withSlice(input) { function(context, $0, resumeReplyContinuation, box) }
        }
    }
}

/// Carries a continuation through a C `user_data` pointer.
final class ReplyContinuation: @unchecked Sendable {
    let continuation: CheckedContinuation<PluginReply, Never>
    init(_ continuation: CheckedContinuation<PluginReply, Never>) { self.continuation = continuation }
}

/// The completion the plugin side passes to host calls: copies the borrowed slices and
/// resumes the waiting task.
let resumeReplyContinuation: tokenhub_completion_fn = { userData, status, result, message in
    guard let userData else { return }
    let box = Unmanaged<ReplyContinuation>.fromOpaque(userData).takeRetainedValue()
    box.continuation.resume(returning: PluginReply(status: PluginStatus(code: status), result: result.bytes, message: message.string))
}
