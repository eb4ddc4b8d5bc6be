import PluginAPI

/// `tokenhub_log_level` as a Swift enum (the header's constants import as `Int`; the type
/// that crosses the boundary is `int32_t`).
public enum LogLevel: Int32, Sendable, Hashable {
    case debug = 0, info = 1, warning = 2, error = 3

    /// Maps a raw level; an unknown value is `.info`.
    public init(code: tokenhub_log_level) { self = LogLevel(rawValue: code) ?? .info }
}

/// `tokenhub_metric_kind` as a Swift enum.
public enum MetricKind: Int32, Sendable, Hashable {
    case counter = 0, gauge = 1, histogram = 2

    /// Maps a raw kind; nil for a value the ABI does not define.
    public init?(code: tokenhub_metric_kind) { self.init(rawValue: code) }
}
