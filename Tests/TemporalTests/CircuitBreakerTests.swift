import TemporalKit
import Testing

@Suite struct CircuitBreakerTests {
    let start = ContinuousClock.now

    @Test func opensAfterThreeConsecutiveFailuresAndProbesOnceAfterTheCooldown() {
        var breaker = CircuitBreaker(failureThreshold: 3, openDuration: .seconds(30))
        for _ in 0..<2 {
            #expect(breaker.admit(now: start) == .allow)
            breaker.recordFailure(now: start)
        }
        #expect(!breaker.isOpen)
        breaker.recordFailure(now: start)
        #expect(breaker.isOpen)
        #expect(breaker.admit(now: start + .seconds(29)) == .reject)
        #expect(breaker.admit(now: start + .seconds(30)) == .probe)
        // While the probe is out, everyone else falls back.
        #expect(breaker.admit(now: start + .seconds(30)) == .reject)
        breaker.recordSuccess()
        #expect(breaker.admit(now: start + .seconds(31)) == .allow)
    }

    @Test func aFailedProbeReopensForAnotherFullCooldown() {
        var breaker = CircuitBreaker(failureThreshold: 1, openDuration: .seconds(10))
        breaker.recordFailure(now: start)
        #expect(breaker.admit(now: start + .seconds(10)) == .probe)
        breaker.recordFailure(now: start + .seconds(10))
        #expect(breaker.admit(now: start + .seconds(19)) == .reject)
        #expect(breaker.admit(now: start + .seconds(20)) == .probe)
    }

    @Test func aSuccessResetsTheConsecutiveCount() {
        var breaker = CircuitBreaker(failureThreshold: 3, openDuration: .seconds(30))
        breaker.recordFailure(now: start)
        breaker.recordFailure(now: start)
        breaker.recordSuccess()
        breaker.recordFailure(now: start)
        breaker.recordFailure(now: start)
        #expect(!breaker.isOpen)
    }
}
