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
        let waiter = Task { await counter.waitUntilIdle(deadline: .now + .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(50))
        counter.leave()
        counter.leave()
        #expect(await waiter.value)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("work that never finishes is given up on at the deadline")
    func boundedByDeadline() async {
        let counter = InFlightCounter()
        counter.enter()
        let started = ContinuousClock.now
        #expect(await counter.waitUntilIdle(deadline: .now + .milliseconds(200)) == false)
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(190) && waited < .seconds(5), "\(waited)")
        #expect(counter.count == 1)
    }
}
