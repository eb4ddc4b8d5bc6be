import Synchronization
import TokenHubCore

/// What this process knows about recent chat requests, so that a request whose workflow
/// wait broke off (Temporal went down mid-request) is never sent to a provider twice by this
/// process: if our ChatActivity already answered it, the waiting dispatcher returns that
/// answer; if the request was handed to the fallback first, a late ChatActivity for it
/// returns a note instead of calling the provider again.
///
/// Per process and bounded (oldest entries forgotten first); a request retried on another
/// instance is not covered.
final class RequestLedger: Sendable {
    enum Entry: Sendable {
        case answered(ChatOutput)
        case handedToFallback
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var head = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// Records that ChatActivity answered `requestID`.
    func recordAnswer(_ output: ChatOutput, for requestID: String) {
        insert(.answered(output), for: requestID)
    }

    /// Marks `requestID` as served by the fallback unless ChatActivity answered it already;
    /// returns that answer when there is one.
    func handToFallback(_ requestID: String) -> ChatOutput? {
        state.withLock { state in
            if case .answered(let output)? = state.entries[requestID] { return output }
            Self.insert(.handedToFallback, for: requestID, into: &state, capacity: capacity)
            return nil
        }
    }

    /// True when the fallback already served `requestID`.
    func wasHandedToFallback(_ requestID: String) -> Bool {
        state.withLock { state in
            if case .handedToFallback? = state.entries[requestID] { return true }
            return false
        }
    }

    private func insert(_ entry: Entry, for requestID: String) {
        state.withLock { Self.insert(entry, for: requestID, into: &$0, capacity: capacity) }
    }

    private static func insert(_ entry: Entry, for requestID: String, into state: inout State, capacity: Int) {
        if state.entries.updateValue(entry, forKey: requestID) != nil { return }
        if state.order.count < capacity {
            state.order.append(requestID)
        } else {
            state.entries[state.order[state.head]] = nil
            state.order[state.head] = requestID
            state.head = (state.head + 1) % capacity
        }
    }
}
