import Synchronization

/// The host calls (`host_route_and_send`, `host_orchestrate`) one plugin instance has
/// running, by the `user_data` it passed, so that `host_cancel` can reach their tasks.
///
/// Kept by call id (one dictionary entry per call, nothing else allocated): `cancel` scans
/// the instance's running calls, which only a cancellation pays for.
/// THREAD: all methods are safe from any thread.
final class RunningHostCalls: Sendable {
    private struct State {
        var nextID: UInt64 = 0
        var calls: [UInt64: (key: UInt, task: Task<Void, Never>)] = [:]
    }
    private let state = Mutex(State())

    /// Registers the task `makeTask` creates (given its id) under `key`.
    func start(_ key: UInt, _ makeTask: (UInt64) -> Task<Void, Never>) {
        state.withLock { state in
            state.nextID &+= 1
            let id = state.nextID
            state.calls[id] = (key, makeTask(id))
        }
    }

    /// Forgets a finished task.
    func finish(_ key: UInt, id: UInt64) {
        _ = state.withLock { $0.calls.removeValue(forKey: id) }
    }

    /// Cancels every running task registered under `key`; an unknown key is ignored.
    func cancel(_ key: UInt) {
        let tasks = state.withLock { $0.calls.values.filter { $0.key == key }.map(\.task) }
        for task in tasks { task.cancel() }
    }

    /// How many calls are running.
    var count: Int { state.withLock { $0.calls.count } }
}
