import Synchronization

/// Counts work in flight and lets one task wait until it drops to zero, woken by the last
/// `leave()` or by its deadline, whichever comes first: a drain without polling.
///
/// THREAD: safe from any thread.
public final class InFlightCounter: Sendable {
    private struct State {
        var count = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }
    private let state = Mutex(State())

    /// A counter at zero.
    public init() {}

    /// Work started.
    public func enter() { state.withLock { $0.count += 1 } }

    /// Work finished; the last one out wakes the waiters.
    public func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count = max(0, state.count - 1)
            guard state.count == 0 else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Work in flight now.
    public var count: Int { state.withLock { $0.count } }

    /// Returns once nothing is in flight, or at `deadline`; true when drained.
    @discardableResult
    public func waitUntilIdle(deadline: ContinuousClock.Instant) async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state -> Bool in
                guard state.count > 0 else { return true }
                state.waiters[id] = continuation
                return false
            }
            if idle { continuation.resume() }
        }
        timer.cancel()
        return count == 0
    }
}
