@testable import HostRuntime
import Testing

@Suite("Rate limiter")
struct RateLimiterTests {
    func limiter(rate: Double = 1, burst: Int = 2, proxies: Set<String> = []) -> RateLimiter {
        var settings = RateLimitConfig()
        settings.enabled = true
        settings.requestsPerSecond = rate
        settings.burst = burst
        settings.trustedProxies = proxies
        return RateLimiter(settings)
    }

    @Test("a burst passes, then the bucket refills at the rate")
    func bucket() {
        let limiter = limiter(rate: 2, burst: 2)
        let start = ContinuousClock.now
        #expect(limiter.check(client: "a", now: start) == nil)
        #expect(limiter.check(client: "a", now: start) == nil)
        #expect(limiter.check(client: "a", now: start) == .milliseconds(500))
        #expect(limiter.check(client: "b", now: start) == nil, "buckets are per client")
        #expect(limiter.check(client: "a", now: start + .milliseconds(500)) == nil)
    }

    @Test("a reload's new settings start every client afresh; the same settings keep the buckets")
    func update() {
        let limiter = limiter(rate: 1, burst: 1)
        let start = ContinuousClock.now
        #expect(limiter.check(client: "a", now: start) == nil)
        #expect(limiter.check(client: "a", now: start) != nil)
        limiter.update(limiter.settings)
        #expect(limiter.check(client: "a", now: start) != nil, "unchanged settings keep the emptied bucket")
        var wider = limiter.settings
        wider.burst = 3
        limiter.update(wider)
        #expect(limiter.check(client: "a", now: start) == nil)
        #expect(limiter.check(client: "a", now: start) == nil)
        #expect(limiter.check(client: "a", now: start) == nil)
        #expect(limiter.check(client: "a", now: start) != nil)
        var off = wider
        off.enabled = false
        limiter.update(off)
        #expect(limiter.check(client: "a", now: start) == nil)
    }

    @Test("X-Forwarded-For counts only behind a trusted proxy")
    func clientIP() {
        let limiter = limiter(proxies: ["10.0.0.1"])
        #expect(limiter.clientIP(socketIP: "192.0.2.7", forwardedFor: "203.0.113.9") == "192.0.2.7")
        #expect(limiter.clientIP(socketIP: "10.0.0.1", forwardedFor: "203.0.113.9") == "203.0.113.9")
        #expect(limiter.clientIP(socketIP: "10.0.0.1", forwardedFor: "198.51.100.1, 203.0.113.9, 10.0.0.1") == "203.0.113.9")
    }

    @Test("a key with a tiny rate (rate_limit_rps 1e-17) waits a clamped day instead of trapping")
    func tinyKeyRate() {
        let limiter = limiter()
        let start = ContinuousClock.now
        #expect(limiter.check(key: "k", rate: 1e-17, now: start) == nil)
        #expect(limiter.check(key: "k", rate: 1e-17, now: start) == TokenBucket.longestWait)
        #expect(limiter.check(key: "k", rate: 1e-300, now: start + .seconds(5)) == TokenBucket.longestWait)
        let answer = GatewayRoutes.rateLimited("key k", wait: TokenBucket.longestWait)
        #expect(answer.headers[.retryAfter] == "86400")
    }
}
