import Foundation
import Synchronization

/// The health of every provider, shared by concurrent requests.
///
/// THREAD: all methods may be called concurrently. `onChange` runs on the recording thread,
/// outside the lock; it must not block.
public final class HealthTracker: Sendable {
    private let states = Mutex<[String: ProviderHealth]>([:])
    /// What operators see beside the state: the last error's class and when the state last
    /// changed (wall clock, for the admin API).
    private let details = Mutex<[String: Detail]>([:])

    /// A provider's report for `GET /admin/v1/health`.
    public struct Report: Sendable, Hashable {
        public var providerID: String
        public var state: ProviderHealth.State
        public var latencyMs: Double
        public var errorRate: Double
        public var consecutiveErrors: Int
        public var lastErrorClass: String?
        /// When the state last changed (ms since 1970), nil if it never did.
        public var lastChangeUnixMs: Int64?
    }

    private struct Detail { var lastErrorClass: String?; var lastChangeUnixMs: Int64? }
    private let onChange: @Sendable (_ providerID: String, _ state: ProviderHealth.State) -> Void

    /// Creates a tracker; `onChange` hears every state change (for events and logs).
    public init(onChange: @escaping @Sendable (String, ProviderHealth.State) -> Void = { _, _ in }) {
        self.onChange = onChange
    }

    /// Records a call's outcome.
    public func record(providerID: String, success: Bool, latencyMs: Double, errorClass: String? = nil, at now: ContinuousClock.Instant = .now) {
        let change = states.withLock { $0[providerID, default: ProviderHealth()].record(success: success, latencyMs: latencyMs, at: now) }
        if errorClass != nil || change != nil {
            let wall = Int64((Date().timeIntervalSince1970 * 1000).rounded())
            details.withLock { details in
                if let errorClass { details[providerID, default: Detail()].lastErrorClass = errorClass }
                if change != nil { details[providerID, default: Detail()].lastChangeUnixMs = wall }
            }
        }
        if let change { onChange(providerID, change) }
    }

    /// Every provider seen so far, by id.
    public func reports(at now: ContinuousClock.Instant = .now) -> [Report] {
        let health = states.withLock { $0 }
        let detail = details.withLock { $0 }
        return health.keys.sorted().map { id in
            let entry = health[id]!
            return Report(providerID: id, state: entry.currentState(at: now), latencyMs: entry.latencyMs, errorRate: entry.errorRate(at: now),
                          consecutiveErrors: entry.consecutiveErrors, lastErrorClass: detail[id]?.lastErrorClass,
                          lastChangeUnixMs: detail[id]?.lastChangeUnixMs)
        }
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
