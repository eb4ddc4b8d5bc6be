import Logging
import PluginKit

/// swift-log's handler for swift-otel's own diagnostics (an unreachable collector, dropped
/// spans): warnings and errors go to the host's log through `host_log`, the rest is dropped.
struct HostLogHandler: LogHandler {
    let host: HostTable
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let details = metadata.merging(event.metadata ?? [:]) { $1 }
        let suffix = details.isEmpty ? "" : " " + details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        host.log(event.level >= .error ? .error : .warning, "otlp: \(event.message)\(suffix)")
    }
}
