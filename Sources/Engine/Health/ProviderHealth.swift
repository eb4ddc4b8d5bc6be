import Foundation

/// A provider's health as a pure state machine: feed it call outcomes, read a view.
///
/// healthy → degraded after 2 consecutive errors → down after 5, for a 30 s cooldown; after
/// the cooldown the provider is degraded again (one more error takes it down at once, one
/// success makes it healthy). Latency is an EWMA; the error rate decays with time, so an
/// old outage stops counting against a provider that has recovered.
public struct ProviderHealth: Sendable, Hashable {
    /// The states a provider moves through.
    public enum State: String, Sendable, Hashable {
        case healthy, degraded, down
    }

    /// Consecutive errors that make a provider degraded.
    public static let degradedAfter = 2
    /// Consecutive errors that take a provider down.
    public static let downAfter = 5
    /// How long a down provider stays out of routing.
    public static let cooldown: Duration = .seconds(30)
    /// Weight of the newest latency sample in the EWMA.
    public static let latencyAlpha = 0.2
    /// Time constant of the error-rate decay: an error's weight falls to 1/e after this long.
    public static let errorDecaySeconds = 60.0

    public private(set) var state: State = .healthy
    public private(set) var consecutiveErrors = 0
    public private(set) var latencyMs: Double = 0
    private var decayedErrors = 0.0
    private var decayedCalls = 0.0
    private var lastUpdate: ContinuousClock.Instant?
    private var downUntil: ContinuousClock.Instant?

    /// A provider nobody has called yet: healthy, no latency, no errors.
    public init() {}

    /// Records one call; returns the new state when it changed.
    public mutating func record(success: Bool, latencyMs sample: Double, at now: ContinuousClock.Instant) -> State? {
        decay(to: now)
        let before = currentState(at: now)
        decayedCalls += 1
        if success {
            latencyMs = latencyMs == 0 ? sample : latencyMs + Self.latencyAlpha * (sample - latencyMs)
            consecutiveErrors = 0
            state = .healthy
            downUntil = nil
        } else {
            decayedErrors += 1
            consecutiveErrors += 1
            if consecutiveErrors >= Self.downAfter || before == .degraded && downUntil != nil {
                state = .down
                downUntil = now + Self.cooldown
            } else if consecutiveErrors >= Self.degradedAfter {
                state = .degraded
            }
        }
        let after = currentState(at: now)
        return after == before ? nil : after
    }

    /// The state at `now`: a down provider whose cooldown has passed reads as degraded.
    public func currentState(at now: ContinuousClock.Instant) -> State {
        if state == .down, let until = downUntil, now >= until { return .degraded }
        return state
    }

    /// The error rate at `now`, in 0...1.
    public func errorRate(at now: ContinuousClock.Instant) -> Double {
        guard let lastUpdate else { return 0 }
        let factor = exp(-Self.seconds(now - lastUpdate) / Self.errorDecaySeconds)
        let calls = decayedCalls * factor
        return calls < 1e-9 ? 0 : (decayedErrors * factor) / calls
    }

    /// What the router reads.
    public func view(at now: ContinuousClock.Instant) -> ProviderHealthView {
        ProviderHealthView(latencyMs: latencyMs, errorRate: errorRate(at: now), isDown: currentState(at: now) == .down)
    }

    private mutating func decay(to now: ContinuousClock.Instant) {
        if let lastUpdate {
            let factor = exp(-Self.seconds(now - lastUpdate) / Self.errorDecaySeconds)
            decayedErrors *= factor
            decayedCalls *= factor
        }
        lastUpdate = now
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
