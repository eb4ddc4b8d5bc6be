import Synchronization

/// One live subscriber's queue of events. The bus appends; the subscriber takes everything
/// queued at once, so a burst of events costs it one wake-up and one write, not one each.
/// It waits only when nothing is queued.
///
/// Hand-written rather than an `AsyncStream`: a stream hands over one element per resume, and
/// the SSE writer needs the whole backlog to write it in one buffer.
///
/// THREAD: safe from any thread.
final class SubscriberQueue: Sendable {
    typealias Waiter = CheckedContinuation<[GatewayEvent]?, Never>

    /// What `push` did.
    enum Pushed {
        /// Queued; the subscriber is busy and will take it with the rest.
        case queued
        /// The subscriber was waiting: resume it with this batch (outside any lock).
        case wake(Waiter, [GatewayEvent])
        /// The queue holds `limit` untaken events: the subscriber stopped reading.
        case full
        /// The subscription has ended.
        case ended
    }

    private struct State {
        var pending: [GatewayEvent] = []
        var waiter: Waiter?
        var ended = false
        var keepAliveDue = false
    }
    private let state = Mutex(State())
    /// The event types it wants; nil: all.
    let types: Set<String>?

    init(types: Set<String>?) {
        self.types = types
    }

    func wants(_ type: String) -> Bool { types.map { $0.contains(type) } ?? true }

    /// Appends `event` unless the queue already holds `limit` untaken events.
    func push(_ event: GatewayEvent, limit: Int) -> Pushed {
        state.withLock { state in
            if state.ended { return .ended }
            if let waiter = state.waiter {
                state.waiter = nil
                return .wake(waiter, [event])
            }
            guard state.pending.count < limit else { return .full }
            state.pending.append(event)
            return .queued
        }
    }

    /// Everything queued, oldest first; `[]` when a keep-alive is due and nothing is queued;
    /// nil once the subscription has ended and its queue is empty (or the task is cancelled).
    /// Waits while there is nothing to take. One taker at a time.
    func next() async -> [GatewayEvent]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Waiter) in
                let ready: [GatewayEvent]?? = state.withLock { state in
                    if !state.pending.isEmpty {
                        let batch = state.pending
                        state.pending.removeAll(keepingCapacity: true)
                        return .some(batch)
                    }
                    if state.ended { return .some(nil) }
                    if state.keepAliveDue {
                        state.keepAliveDue = false
                        return .some([])
                    }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            end()
        }
    }

    /// Makes the subscriber's next `next()` return `[]` (at once if it waits).
    func keepAlive() {
        let waiter = state.withLock { state -> Waiter? in
            guard !state.ended else { return nil }
            guard let waiter = state.waiter else {
                state.keepAliveDue = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: [])
    }

    /// Ends the subscription: `next()` returns what is still queued, then nil.
    func end() {
        let waiter = state.withLock { state -> Waiter? in
            state.ended = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
