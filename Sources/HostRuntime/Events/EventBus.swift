import Foundation
import Synchronization
import TokenHubCore

/// The host's event bus: publishes typed events to live subscribers (the SSE stream) and to
/// the telemetry plugins (`on_event`), and keeps the last events for resumes.
///
/// Publishing never blocks: each subscriber has a bounded queue, and a subscriber whose queue
/// is full (it stopped reading) is cut off, its drop counted, without slowing the others.
///
/// THREAD: safe from any thread.
final class EventBus: Sendable {
    /// Events kept for `Last-Event-ID` resumes.
    static let ringCapacity = 4096
    /// Events a subscriber may have waiting before it is cut off.
    static let subscriberQueue = 1024

    private struct State {
        var sequence: UInt64 = 0
        var ring = EventRing(capacity: EventBus.ringCapacity)
        var subscribers: [UInt64: SubscriberQueue] = [:]
        var nextSubscriber: UInt64 = 0
        var cutOff = 0
        var closed = false
    }
    private let state = Mutex(State())
    private let telemetry: TelemetryFanOut

    init(telemetry: TelemetryFanOut) {
        self.telemetry = telemetry
    }

    /// Publishes an event of `type` with `fields` (never secrets, prompts or answers).
    func publish(_ type: EventType, requestID: String? = nil, _ fields: [String: JSONValue] = [:]) {
        publish(type: type.rawValue, requestID: requestID, fields)
    }

    /// Publishes an event of any type (a plugin's).
    func publish(type: String, requestID: String? = nil, _ fields: [String: JSONValue] = [:]) {
        let time = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        var wakes: [(SubscriberQueue.Waiter, [GatewayEvent])] = []
        var cut: [SubscriberQueue] = []
        let event = state.withLock { state in
            state.sequence += 1
            let event = GatewayEvent(sequence: state.sequence, timeUnixMs: time, type: type, requestID: requestID, fields: fields)
            state.ring.append(event)
            for (id, subscriber) in state.subscribers where subscriber.wants(type) {
                switch subscriber.push(event, limit: Self.subscriberQueue) {
                case .queued: break
                case .ended: state.subscribers[id] = nil  // its taker was cancelled
                case .wake(let waiter, let batch): wakes.append((waiter, batch))
                case .full:
                    cut.append(subscriber)
                    state.subscribers[id] = nil
                    state.cutOff += 1
                }
            }
            return event
        }
        // Outside the lock: a resumed subscriber may publish or unsubscribe at once.
        for (waiter, batch) in wakes { waiter.resume(returning: batch) }
        for subscriber in cut { subscriber.end() }
        if !telemetry.isEmpty {
            var forPlugins = event
            // ABI 1.2/1.3 promise telemetry plugins health changes as `provider_health`.
            if type == EventType.healthChange.rawValue { forPlugins.type = "provider_health" }
            telemetry.observe(eventJSON: forPlugins.json.serialized)
        }
    }

    /// A live subscription: first what was missed since `lastSequence` (and, when the ring no
    /// longer holds all of it, the lost range), then every new event of `types` (nil: all).
    func subscribe(types: Set<String>?, after lastSequence: UInt64?) -> Subscription {
        let queue = SubscriberQueue(types: types)
        let (id, replay, missed, closed) = state.withLock { state in
            state.nextSubscriber += 1
            let id = state.nextSubscriber
            var replay: [GatewayEvent] = []
            var missed: ClosedRange<UInt64>?
            if let lastSequence {
                let held = state.ring.after(lastSequence)
                missed = held.missed
                replay = held.events.filter { queue.wants($0.type) }
            }
            if !state.closed { state.subscribers[id] = queue }
            return (id, replay, missed, state.closed)
        }
        if closed { queue.end() }
        return Subscription(bus: self, id: id, replay: replay, missed: missed, queue: queue)
    }

    /// Forgets subscriber `id` (its stream ended).
    fileprivate func unsubscribe(_ id: UInt64) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    /// Ends every subscription and every later one (at shutdown).
    func close() {
        let open = state.withLock { state in
            state.closed = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscriber in open { subscriber.end() }
    }

    /// Subscribers cut off because they stopped reading, since start.
    var cutOffCount: Int { state.withLock { $0.cutOff } }
    /// The last sequence number published.
    var lastSequence: UInt64 { state.withLock { $0.sequence } }

    /// One subscriber's view of the bus.
    struct Subscription: Sendable {
        let bus: EventBus
        let id: UInt64
        /// Held events the subscriber missed, oldest first.
        let replay: [GatewayEvent]
        /// Sequence numbers it missed that the ring no longer holds.
        let missed: ClosedRange<UInt64>?
        fileprivate let queue: SubscriberQueue

        /// Every new event queued since the last call, oldest first, waiting until there is
        /// one; `[]` when a keep-alive is due (`keepAlive()`); nil once the subscription has
        /// ended (cut off, cancelled, or the bus closed).
        func next() async -> [GatewayEvent]? { await queue.next() }

        /// Makes `next()` return `[]` now, or at its next call.
        func keepAlive() { queue.keepAlive() }

        /// Ends the subscription: the bus forgets it, and `next()` returns what was queued, then nil.
        func cancel() {
            bus.unsubscribe(id)
            queue.end()
        }
    }
}
