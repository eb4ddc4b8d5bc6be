import PluginAPI
import Synchronization

/// The serving side of asynchronous C calls, in both directions (the host serving a plugin's
/// `host_route_and_send`, a Swift plugin serving the host's `on_chat`): each call runs in a
/// task registered under the caller's `user_data`, so that the caller's cancel
/// (`host_cancel`, `on_cancel`) reaches it. Its calling counterpart is `PendingReplies`.
///
/// Kept by call id (one dictionary entry per call); `cancel` scans the running calls, which
/// only a cancellation pays for. THREAD: all methods are safe from any thread.
public final class RunningCalls: Sendable {
    private struct State {
        var nextID: UInt64 = 0
        var calls: [UInt64: (key: UInt, task: Task<Void, Never>)] = [:]
    }
    private let state = Mutex(State())

    /// An empty registry.
    public init() {}

    /// Runs `work` in a task registered under `userData`, hands its reply to `done` exactly
    /// once (without a `done` the work still runs), and forgets the task. A cancelled task's
    /// reply is `TOKENHUB_ERR_CANCELLED`.
    public func serve(_ done: tokenhub_completion_fn?, _ userData: UnsafeMutableRawPointer?,
                      _ work: @escaping @Sendable () async -> PluginReply) {
        let key = UInt(bitPattern: userData)
        let callUserData = CUserData(userData)
        state.withLock { state in
            state.nextID &+= 1
            let id = state.nextID
            state.calls[id] = (key, Task {
                var reply = await work()
                if Task.isCancelled { reply = .failure(.cancelled, "cancelled by the caller") }
                _ = self.state.withLock { $0.calls.removeValue(forKey: id) }
                if let done { reply.deliver(to: done, userData: callUserData.pointer) }
            })
        }
    }

    /// Cancels every running call registered under `userData`; an unknown one is ignored.
    public func cancel(_ userData: UnsafeMutableRawPointer?) {
        let key = UInt(bitPattern: userData)
        let tasks = state.withLock { $0.calls.values.filter { $0.key == key }.map(\.task) }
        for task in tasks { task.cancel() }
    }

    /// How many calls are running.
    public var count: Int { state.withLock { $0.calls.count } }
}
