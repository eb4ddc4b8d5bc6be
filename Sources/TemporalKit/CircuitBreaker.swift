/// Keeps requests from each paying a connect timeout while Temporal is down: after
/// `failureThreshold` consecutive failures the breaker opens for `openDuration`, then lets
/// exactly one probe through; the probe's success closes it, its failure reopens it.
///
/// A pure state machine: the caller passes the time in and acts on the answers, so it is
/// tested without a clock or a server. Only transport failures count — a provider error
/// inside a workflow is a served request.
public struct CircuitBreaker: Sendable, Equatable {
    /// The breaker's state.
    public enum State: Sendable, Equatable {
        /// Requests go to Temporal; `failures` consecutive ones have failed.
        case closed(failures: Int)
        /// Requests fall back until `until`.
        case open(until: ContinuousClock.Instant)
        /// One probe is in flight; everyone else falls back until it reports.
        case halfOpen
    }

    /// What the caller should do with a request.
    public enum Admission: Sendable, Equatable {
        /// Send it to Temporal.
        case allow
        /// Send it to Temporal as the half-open probe; report its outcome.
        case probe
        /// Fall back; Temporal is presumed down.
        case reject
    }

    /// The current state.
    public private(set) var state: State = .closed(failures: 0)
    /// Consecutive failures that open the breaker.
    public let failureThreshold: Int
    /// How long it stays open before a probe.
    public let openDuration: Duration

    /// Creates a closed breaker (defaults: 3 failures, 30 s).
    public init(failureThreshold: Int = 3, openDuration: Duration = .seconds(30)) {
        self.failureThreshold = max(1, failureThreshold)
        self.openDuration = openDuration
    }

    /// Decides one request at `now`.
    public mutating func admit(now: ContinuousClock.Instant) -> Admission {
        switch state {
        case .closed:
            return .allow
        case .open(let until):
            guard now >= until else { return .reject }
            state = .halfOpen
            return .probe
        case .halfOpen:
            return .reject
        }
    }

    /// Reports that a request reached Temporal.
    public mutating func recordSuccess() {
        state = .closed(failures: 0)
    }

    /// Reports that a request could not reach Temporal at `now`.
    public mutating func recordFailure(now: ContinuousClock.Instant) {
        switch state {
        case .closed(let failures):
            state = failures + 1 >= failureThreshold ? .open(until: now + openDuration) : .closed(failures: failures + 1)
        case .halfOpen, .open:
            state = .open(until: now + openDuration)
        }
    }

    /// True while requests are being turned away (open, or half-open with the probe out).
    public var isOpen: Bool {
        if case .closed = state { return false }
        return true
    }
}
