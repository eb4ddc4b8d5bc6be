import TokenHubCore

/// What the engine does after a failed provider attempt.
public enum FailoverAction: Sendable, Hashable {
    /// Try the same model again after a pause.
    case retry(after: Duration, reason: String)
    /// Move to another model.
    case switchTo(RouteCandidate, reason: String)
    /// Stop and answer with the failure.
    case giveUp
}

/// The failover rules as a pure state machine: feed it each failure, it says what to do.
///
/// - context_overflow → the best remaining model with a larger window;
/// - rate_limited → the next model; with none left, wait out a short Retry-After (≤ 2 s);
/// - transient → the same model again with jittered exponential backoff, 2 retries, then next;
/// - fatal → the next model.
/// Never more than 5 attempts, never a pause that ends past the deadline.
public struct FailoverState: Sendable {
    public static let maxAttempts = 5
    public static let maxTransientRetries = 2
    public static let shortRetryAfter: Duration = .seconds(2)
    public static let backoffBase: Duration = .milliseconds(100)

    /// The model being tried.
    public private(set) var current: RouteCandidate
    /// Ranked models not tried yet.
    public private(set) var remaining: [RouteCandidate]
    /// Attempts made so far.
    public private(set) var attempts = 1
    private var transientRetries = 0

    /// Starts with the best candidate; the rest wait in rank order.
    public init(candidates: [RouteCandidate]) {
        precondition(!candidates.isEmpty, "failover needs at least one candidate")
        current = candidates[0]
        remaining = Array(candidates.dropFirst())
    }

    /// Decides the next step. `jitter` in 0.5...1.5 scales the backoff (random in production).
    public mutating func next(after failure: ProviderFailure, timeLeft: Duration, jitter: Double = 1) -> FailoverAction {
        guard attempts < FailoverState.maxAttempts && timeLeft > .zero else { return .giveUp }
        switch failure.errorClass {
        case .contextOverflow:
            remaining.removeAll { $0.model.maxContextTokens <= current.model.maxContextTokens }
            return switchToNext(reason: "escalated-context-overflow")
        case .rateLimited:
            if !remaining.isEmpty { return switchToNext(reason: "failover-rate-limited") }
            if let wait = failure.retryAfter, wait <= Self.shortRetryAfter, wait < timeLeft {
                attempts += 1
                return .retry(after: wait, reason: "retried-rate-limited")
            }
            return .giveUp
        case .transient:
            if transientRetries < Self.maxTransientRetries {
                let backoff = Self.backoffBase * (1 << transientRetries) * jitter
                // An upstream's Retry-After is obeyed only while it fits before the deadline;
                // a longer one moves on (a pause past the deadline would answer nobody).
                let pause = failure.retryAfter.map { max($0, backoff) } ?? backoff
                guard pause < timeLeft else { return switchToNext(reason: "failover-transient") }
                transientRetries += 1
                attempts += 1
                return .retry(after: pause, reason: "retried-transient")
            }
            return switchToNext(reason: "failover-transient")
        case .fatal, .noEligibleModel, .unknownModel:
            return switchToNext(reason: "failover-fatal")
        }
    }

    private mutating func switchToNext(reason: String) -> FailoverAction {
        guard !remaining.isEmpty else { return .giveUp }
        current = remaining.removeFirst()
        attempts += 1
        transientRetries = 0
        return .switchTo(current, reason: reason)
    }
}
