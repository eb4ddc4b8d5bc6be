import TokenHubCore

/// One event on the bus: what happened, when, its place in the sequence, and the request it
/// belongs to where there is one. Events carry ids, names, classes and numbers; never a
/// prompt, an answer, a key or a token.
struct GatewayEvent: Sendable, Equatable {
    /// Increasing from 1 for the life of the process; SSE's `id:`.
    var sequence: UInt64
    var timeUnixMs: Int64
    /// `route_success`, `health_change`, `config_reloaded`… (`EventType` names the host's own).
    var type: String
    var requestID: String?
    /// The event's own fields.
    var fields: [String: JSONValue]

    /// The JSON a subscriber receives: the fields plus `type`, `sequence`, `time_unix_ms` and
    /// `request_id`.
    var json: JSONValue {
        var object = fields
        object["type"] = .string(type)
        object["sequence"] = .number(Double(sequence))
        object["time_unix_ms"] = .number(Double(timeUnixMs))
        if let requestID { object["request_id"] = .string(requestID) }
        return .object(object)
    }
}

/// The event types the host publishes itself. Plugins may publish others through
/// `host_emit_event`; their `type` passes through.
enum EventType: String, CaseIterable {
    case routeSuccess = "route_success", routeError = "route_error", escalation
    case healthChange = "health_change"
    case configReloaded = "config_reloaded", configRejected = "config_rejected"
    case pluginLoaded = "plugin_loaded", pluginFailed = "plugin_failed"
    case keyRevoked = "key_revoked", budgetExceeded = "budget_exceeded"
    case storeDegraded = "store_degraded", storeRecovered = "store_recovered"
    case heartbeat
}

/// The last `capacity` events, for `Last-Event-ID` resumes. Pure: no locks, no clocks.
struct EventRing {
    let capacity: Int
    private(set) var events: [GatewayEvent] = []
    private var start = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func append(_ event: GatewayEvent) {
        if events.count < capacity {
            events.append(event)
        } else {
            events[start] = event
            start = (start + 1) % capacity
        }
    }

    /// Oldest first.
    var ordered: [GatewayEvent] { Array(events[start...] + events[..<start]) }

    /// What a subscriber that last saw `sequence` missed: the events after it still held, and
    /// the range it lost when the ring no longer holds the next one.
    func after(_ sequence: UInt64) -> (missed: ClosedRange<UInt64>?, events: [GatewayEvent]) {
        let held = ordered
        guard let oldest = held.first?.sequence else { return (nil, []) }
        let newer = held.filter { $0.sequence > sequence }
        let missed: ClosedRange<UInt64>? = sequence + 1 < oldest ? (sequence + 1)...(oldest - 1) : nil
        return (missed, newer)
    }
}
