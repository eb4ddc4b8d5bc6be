import Foundation
@testable import HostRuntime
import Testing
import TokenHubCore

@Suite("Event bus")
struct EventBusTests {
    func event(_ sequence: UInt64) -> GatewayEvent {
        GatewayEvent(sequence: sequence, timeUnixMs: 0, type: "t", requestID: nil, fields: [:])
    }

    @Test("the ring keeps the last events and names the range a resume can no longer get")
    func ring() {
        var ring = EventRing(capacity: 3)
        for sequence in 1...5 { ring.append(event(UInt64(sequence))) }
        #expect(ring.ordered.map(\.sequence) == [3, 4, 5])
        let resumed = ring.after(3)
        #expect(resumed.missed == nil && resumed.events.map(\.sequence) == [4, 5])
        let late = ring.after(0)
        #expect(late.missed == 1...2 && late.events.map(\.sequence) == [3, 4, 5])
        #expect(ring.after(5).events.isEmpty)
    }

    @Test("subscribers get the same ordered events; one that stops taking is cut off without holding the others; a resume replays what was missed")
    func fanOutAndCutOff() async throws {
        let bus = EventBus(telemetry: TelemetryFanOut())
        let first = bus.subscribe(types: nil, after: nil)
        let second = bus.subscribe(types: nil, after: nil)
        let stalled = bus.subscribe(types: nil, after: nil)
        let filtered = bus.subscribe(types: ["route_error"], after: nil)
        let total = EventBus.subscriberQueue + 200
        func drain(_ subscription: EventBus.Subscription, _ count: Int) async -> [UInt64] {
            var seen: [UInt64] = []
            while seen.count < count, let batch = await subscription.next() { seen += batch.map(\.sequence) }
            return seen
        }
        async let a = drain(first, total)
        async let b = drain(second, total)
        for index in 0..<total {
            bus.publish(index % 10 == 0 ? .routeError : .routeSuccess, requestID: "r\(index)", ["n": .number(Double(index))])
            if index % 100 == 0 { await Task.yield() }
        }
        let (seenA, seenB) = await (a, b)
        #expect(seenA == Array(1...UInt64(total)))
        #expect(seenB == seenA)
        #expect(bus.cutOffCount >= 1, "the subscriber that never took an event was cut off")
        var stalledCount = 0
        while let batch = await stalled.next() { stalledCount += batch.count }
        #expect(stalledCount == EventBus.subscriberQueue, "it got what its queue held, then its stream ended")
        let routeErrors = (1...UInt64(total)).filter { ($0 - 1) % 10 == 0 }
        #expect(await drain(filtered, routeErrors.count) == routeErrors, "only the route_error events (every tenth), in order")

        let resumed = bus.subscribe(types: nil, after: UInt64(total - 5))
        #expect(resumed.replay.map(\.sequence) == Array(UInt64(total - 4)...UInt64(total)))
        #expect(resumed.missed == nil)
        let tooOld = bus.subscribe(types: nil, after: 0)
        #expect(tooOld.missed == nil, "the ring still holds everything: \(total) < \(EventBus.ringCapacity)")
    }

    @Test("a subscriber takes everything queued in one batch, waits when nothing is, gets [] for a keep-alive, and nil once cancelled")
    func batchesAndKeepAlive() async throws {
        let bus = EventBus(telemetry: TelemetryFanOut())
        let subscription = bus.subscribe(types: nil, after: nil)
        for index in 0..<5 { bus.publish(.routeSuccess, requestID: "r\(index)") }
        #expect(await subscription.next()?.map(\.sequence) == [1, 2, 3, 4, 5], "the backlog comes as one batch")
        subscription.keepAlive()
        #expect(await subscription.next() == [], "a keep-alive due while nothing is queued")
        let waiting = Task { await subscription.next() }
        try await Task.sleep(for: .milliseconds(50))
        bus.publish(.routeError, requestID: "late")
        #expect(await waiting.value?.map(\.requestID) == ["late"], "a waiting subscriber is woken by the next event")
        let parked = Task { await subscription.next() }
        try await Task.sleep(for: .milliseconds(50))
        subscription.cancel()
        #expect(await parked.value == nil, "cancelling ends a waiting subscriber")
        bus.publish(.routeSuccess)
        #expect(await subscription.next() == nil, "nothing reaches a cancelled subscription")
        let cancelledTask = Task { await bus.subscribe(types: nil, after: nil).next() }
        cancelledTask.cancel()
        #expect(await cancelledTask.value == nil, "a cancelled task stops waiting")
    }
}
