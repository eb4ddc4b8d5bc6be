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
            for await event in subscription.events {
                subscription.took()
                seen.append(event.sequence)
                if seen.count == count { break }
            }
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
        for await _ in stalled.events { stalledCount += 1 }
        #expect(stalledCount == EventBus.subscriberQueue, "it got what its queue held, then its stream ended")
        var errors: [String] = []
        for await event in filtered.events {
            filtered.took()
            errors.append(event.type)
            if errors.count == total / 10 { break }
        }
        #expect(Set(errors) == ["route_error"])

        let resumed = bus.subscribe(types: nil, after: UInt64(total - 5))
        #expect(resumed.replay.map(\.sequence) == Array(UInt64(total - 4)...UInt64(total)))
        #expect(resumed.missed == nil)
        let tooOld = bus.subscribe(types: nil, after: 0)
        #expect(tooOld.missed == nil, "the ring still holds everything: \(total) < \(EventBus.ringCapacity)")
    }
}
