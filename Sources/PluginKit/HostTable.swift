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

    /// The host's `host_cancel` (ABI 1.3), nil from an older host.
    private var hostCancel: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void)? {
        let end = MemoryLayout<tokenhub_host>.offset(of: \.host_cancel)! + MemoryLayout<UnsafeRawPointer>.size
        guard raw.pointee.struct_size >= end else { return nil }
        return raw.pointee.host_cancel
    }

    /// Calls the host and waits for its completion. Cancelling the waiting task cancels the
    /// host call (`host_cancel`, when the host has it), which then completes promptly.
    private func call(_ function: AsyncHostCall?, _ input: [UInt8]) async -> PluginReply {
        guard let function else {
            return .failure(.notSupported, "the host does not offer this call")
        }
        let context = CUserData(raw.pointee.host_context)
        // The box is the call's user data: it stays alive until this returns, so its address
        // names this call alone for as long as `host_cancel` may use it.
        let box = ReplyContinuation()
        let userData = CUserData(Unmanaged.passUnretained(box).toOpaque())
        let cancel = hostCancel
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                box.continuation = continuation
                _ = Unmanaged.passRetained(box)  // released by the completion
                withSlice(input) { function(context.pointer, $0, resumeReplyContinuation, userData.pointer) }
            }
        } onCancel: {
            withExtendedLifetime(box) { cancel?(context.pointer, userData.pointer) }
        }
    }
}

/// Carries a continuation through a C `user_data` pointer. Set once, before the host call
/// that completes it starts (which orders the write before the completion's read).
final class ReplyContinuation: @unchecked Sendable {
    var continuation: CheckedContinuation<PluginReply, Never>?
}

/// The completion the plugin side passes to host calls: copies the borrowed slices and
/// resumes the waiting task.
let resumeReplyContinuation: tokenhub_completion_fn = { userData, status, result, message in
    guard let userData else { return }
    let box = Unmanaged<ReplyContinuation>.fromOpaque(userData).takeRetainedValue()
    box.continuation?.resume(returning: PluginReply(status: PluginStatus(code: status), result: result.bytes, message: message.string))
}
