import PluginKit
import TokenHubCore

/// JSONLogTelemetry's config: `{path?, buffer_bytes?, results?, events?, event_types?}`.
struct JSONLogSettings: Sendable {
    /// A file path, or nil for the process's standard output.
    var path: String?
    /// The most bytes queued for the writer before lines are dropped (and the drop announced).
    var bufferBytes: Int
    /// Whether to write a line per request result, and per event.
    var results: Bool, events: Bool
    /// When set, only these event types are written.
    var eventTypes: Set<String>?

    static let keys = ["path", "buffer_bytes", "results", "events", "event_types"]

    init(configJSON: [UInt8]) throws {
        let fields = try PluginConfig.fields(configJSON, plugin: "JSONLogTelemetry", keys: Self.keys)
        let path = try fields.string("path", default: "stdout")
        guard !path.isEmpty else { throw PluginError("config.path: expected a file path or \"stdout\"") }
        self.path = path == "stdout" || path == "-" ? nil : path
        bufferBytes = try fields.int("buffer_bytes", default: 8 << 20)
        guard (64 << 10)...(1 << 30) ~= bufferBytes else {
            throw PluginError("config.buffer_bytes: expected 65536 to 1073741824 (64 KiB to 1 GiB), got \(bufferBytes)")
        }
        results = try fields.bool("results", default: true)
        events = try fields.bool("events", default: true)
        switch fields["event_types"] {
        case nil, .null?: eventTypes = nil
        case .array(let items)?:
            let names = items.compactMap(\.stringValue)
            guard names.count == items.count, !names.contains(where: \.isEmpty) else {
                throw PluginError("config.event_types: expected a list of event type names, e.g. [route_error, health_change]")
            }
            eventTypes = Set(names)
        default:
            throw PluginError("config.event_types: expected a list of event type names, e.g. [route_error, health_change]")
        }
    }
}
