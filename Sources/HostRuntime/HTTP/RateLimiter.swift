import Foundation
import Synchronization

/// A token bucket: `rate` tokens per second up to `burst`. Pure; time is passed in.
struct TokenBucket: Sendable {
    let rate: Double
    let burst: Double
    private(set) var tokens: Double
    private var updated: ContinuousClock.Instant

    init(rate: Double, burst: Double, now: ContinuousClock.Instant) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        updated = now
    }

    /// The longest Retry-After a bucket answers (a key's rate may be tiny).
    static let longestWait: Duration = .seconds(86_400)

    /// Takes a token; on refusal, how long until one is available.
    mutating func take(now: ContinuousClock.Instant) -> Duration? {
        let elapsed = now - updated
        tokens = min(burst, tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        updated = now
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return .milliseconds(saturating: (1 - tokens) / rate * 1000, maximum: Self.longestWait)
    }
}

/// Per-client token buckets (by IP), as configured under `server.rate_limit`.
///
/// THREAD: safe from any thread. `update` (a config reload) takes effect on the next check.
public final class RateLimiter: Sendable {
    private struct State {
        var settings: RateLimitConfig
        var buckets: [String: TokenBucket] = [:]
    }
    private let state: Mutex<State>

    /// Creates a limiter.
    public init(_ settings: RateLimitConfig) {
        state = Mutex(State(settings: settings))
    }

    /// The settings in force.
    public var settings: RateLimitConfig { state.withLock { $0.settings } }

    /// Replaces the settings. Changed settings start every client with a full bucket of the
    /// new size; the same settings keep the buckets as they are.
    public func update(_ settings: RateLimitConfig) {
        state.withLock { state in
            guard state.settings != settings else { return }
            state.settings = settings
            state.buckets.removeAll()
        }
    }

    /// nil when the client may proceed; otherwise the Retry-After.
    public func check(client: String, now: ContinuousClock.Instant = .now) -> Duration? {
        state.withLock { state in
            let settings = state.settings
            guard settings.enabled else { return nil }
            if state.buckets.count > 100_000 { state.buckets.removeAll(keepingCapacity: true) }
            var bucket = state.buckets[client] ?? TokenBucket(rate: settings.requestsPerSecond, burst: Double(settings.burst), now: now)
            let wait = bucket.take(now: now)
            state.buckets[client] = bucket
            return wait
        }
    }

    /// nil when the API key `keyID` may proceed at its own `rate` (burst: two seconds' worth).
    public func check(key keyID: String, rate: Double, now: ContinuousClock.Instant = .now) -> Duration? {
        guard rate > 0 else { return nil }
        return state.withLock { state in
            let name = "key:" + keyID
            var bucket = state.buckets[name] ?? TokenBucket(rate: rate, burst: max(1, rate * 2), now: now)
            let wait = bucket.take(now: now)
            state.buckets[name] = bucket
            return wait
        }
    }

    /// The client's IP: the socket peer, or, when the peer is a trusted proxy, the nearest
    /// untrusted address in X-Forwarded-For.
    public func clientIP(socketIP: String?, forwardedFor: String?) -> String {
        let peer = socketIP ?? "unknown"
        let trusted = state.withLock { $0.settings.trustedProxies }
        guard trusted.contains(peer), let forwardedFor else { return peer }
        let chain = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return chain.reversed().first { !trusted.contains($0) } ?? peer
    }
}
