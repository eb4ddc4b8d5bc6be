import Synchronization

/// The host calls (`host_route_and_send`, `host_orchestrate`) one plugin instance has
/// running, by the `user_data` it passed, so that `host_cancel` can reach their tasks.
///
/// THREAD: all methods are safe from any thread.
final class RunningHostCalls: Sendable {
    private struct State {
        var nextID: UInt64 = 0
        var tasks: [UInt: [(id: UInt64, task: Task<Void, Never>)]] = [:]
    }
    private let state = Mutex(State())

    /// Registers the task `makeTask` creates (given its id) under `key`.
    func start(_ key: UInt, _ makeTask: (UInt64) -> Task<Void, Never>) {
        state.withLock { state in
            state.nextID &+= 1
            let id = state.nextID
            state.tasks[key, default: []].append((id, makeTask(id)))
        }
    }

    /// Forgets a finished task.
    func finish(_ key: UInt, id: UInt64) {
        state.withLock { state in
            guard var list = state.tasks[key] else { return }
            list.removeAll { $0.id == id }
            state.tasks[key] = list.isEmpty ? nil : list
        }
    }

    /// Cancels every running task registered under `key`; an unknown key is ignored.
    func cancel(_ key: UInt) {
        let tasks = state.withLock { $0.tasks[key] ?? [] }
        for entry in tasks { entry.task.cancel() }
    }

    /// How many calls are running.
    var count: Int { state.withLock { $0.tasks.values.reduce(0) { $0 + $1.count } } }
}
