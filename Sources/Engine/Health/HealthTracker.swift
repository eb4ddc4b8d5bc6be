import Synchronization

/// The health of every provider, shared by concurrent requests.
///
/// THREAD: all methods may be called concurrently. `onChange` runs on the recording thread,
/// outside the lock; it must not block.
public final class HealthTracker: Sendable {
    private let states = Mutex<[String: ProviderHealth]>([:])
    private let onChange: @Sendable (_ providerID: String, _ state: ProviderHealth.State) -> Void

    /// Creates a tracker; `onChange` hears every state change (for events and logs).
    public init(onChange: @escaping @Sendable (String, ProviderHealth.State) -> Void = { _, _ in }) {
        self.onChange = onChange
    }

    /// Records a call's outcome.
    public func record(providerID: String, success: Bool, latencyMs: Double, at now: ContinuousClock.Instant = .now) {
        let change = states.withLock { $0[providerID, default: ProviderHealth()].record(success: success, latencyMs: latencyMs, at: now) }
        if let change { onChange(providerID, change) }
    }

    /// What the router reads, for every provider seen so far.
    public func views(at now: ContinuousClock.Instant = .now) -> [String: ProviderHealthView] {
        states.withLock { $0.mapValues { $0.view(at: now) } }
    }

    /// One provider's state.
    public func state(of providerID: String, at now: ContinuousClock.Instant = .now) -> ProviderHealth.State {
        states.withLock { $0[providerID]?.currentState(at: now) ?? .healthy }
    }
}
