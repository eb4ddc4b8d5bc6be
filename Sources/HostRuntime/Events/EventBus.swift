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
        var subscribers: [UInt64: Subscriber] = [:]
        var nextSubscriber: UInt64 = 0
        var cutOff = 0
        var closed = false
    }
    private struct Subscriber {
        var types: Set<String>?
        var continuation: AsyncStream<GatewayEvent>.Continuation
        var queued: Int
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
        let (event, cut): (GatewayEvent, [AsyncStream<GatewayEvent>.Continuation]) = state.withLock { state in
            state.sequence += 1
            let event = GatewayEvent(sequence: state.sequence, timeUnixMs: time, type: type, requestID: requestID, fields: fields)
            state.ring.append(event)
            var cut: [AsyncStream<GatewayEvent>.Continuation] = []
            for (id, subscriber) in state.subscribers where subscriber.types.map({ $0.contains(type) }) ?? true {
                guard subscriber.queued < Self.subscriberQueue else {
                    cut.append(subscriber.continuation)
                    state.subscribers[id] = nil
                    state.cutOff += 1
                    continue
                }
                state.subscribers[id]?.queued += 1
                subscriber.continuation.yield(event)
            }
            return (event, cut)
        }
        // Outside the lock: finishing runs the stream's termination handler, which takes it.
        for continuation in cut { continuation.finish() }
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
        let (stream, continuation) = AsyncStream<GatewayEvent>.makeStream(bufferingPolicy: .unbounded)
        let (id, replay, missed) = state.withLock { state in
            state.nextSubscriber += 1
            let id = state.nextSubscriber
            var replay: [GatewayEvent] = []
            var missed: ClosedRange<UInt64>?
            if let lastSequence {
                let held = state.ring.after(lastSequence)
                missed = held.missed
                replay = held.events.filter { event in types.map { $0.contains(event.type) } ?? true }
            }
            if state.closed { continuation.finish() } else {
                state.subscribers[id] = Subscriber(types: types, continuation: continuation, queued: 0)
            }
            return (id, replay, missed)
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }
        return Subscription(bus: self, id: id, replay: replay, missed: missed, events: stream)
    }

    /// Called by a subscriber for each event it took from its stream.
    fileprivate func consumed(_ id: UInt64) {
        state.withLock { state in
            if let queued = state.subscribers[id]?.queued, queued > 0 { state.subscribers[id]?.queued = queued - 1 }
        }
    }

    /// Ends every subscription and every later one (at shutdown).
    func close() {
        let open = state.withLock { state in
            state.closed = true
            defer { state.subscribers.removeAll() }
            return state.subscribers.values.map(\.continuation)
        }
        for continuation in open { continuation.finish() }
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
        let events: AsyncStream<GatewayEvent>

        /// Marks one event of `events` as taken (the queue bound counts untaken ones).
        func took() { bus.consumed(id) }
    }
}
