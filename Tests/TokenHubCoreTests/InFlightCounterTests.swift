import Testing
import TokenHubCore

@Suite("InFlightCounter: drains woken by the last completion, bounded by a deadline")
struct InFlightCounterTests {
    @Test("idle at once when nothing is in flight; woken by the last leave, long before the deadline")
    func wokenByLeave() async {
        let counter = InFlightCounter()
        #expect(await counter.waitUntilIdle(deadline: .now + .seconds(30)))
        counter.enter()
        counter.enter()
        let started = ContinuousClock.now
        let waiter = Task { await counter.waitUntilIdle(deadline: .now + .seconds(120)) }
        try? await Task.sleep(for: .milliseconds(50))
        counter.leave()
        counter.leave()
        #expect(await waiter.value)
        // Far below the 120 s deadline: the last leave woke it, not the timer (generous: the
        // test process's threads are shared with every suite running in parallel).
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test("work that never finishes is given up on at the deadline")
    func boundedByDeadline() async {
        let counter = InFlightCounter()
        counter.enter()
        let started = ContinuousClock.now
        #expect(await counter.waitUntilIdle(deadline: .now + .milliseconds(200)) == false)
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(190) && waited < .seconds(60), "\(waited)")
        #expect(counter.count == 1)
    }
}
