import PluginAPI
import PluginKit
import Synchronization

/// The configured telemetry plugins as one observer: every result and metric goes to each,
/// and a scrape concatenates their texts.
///
/// THREAD: safe from any thread. The plugins are attached once they are created (they need
/// the host table, which needs the services this belongs to).
final class TelemetryFanOut: Sendable {
    private let instances = Mutex<[TelemetryInstance]>([])

    /// Sends everything to `list` from now on.
    func attach(_ list: [TelemetryInstance]) {
        instances.withLock { $0 = list }
    }

    /// True when no telemetry plugin is configured (the request path then skips encoding).
    var isEmpty: Bool { instances.withLock { $0.isEmpty } }

    /// Hands one LogResult JSON to every plugin.
    func observe(resultJSON: [UInt8]) {
        for instance in instances.withLock({ $0 }) { instance.observe(resultJSON: resultJSON) }
    }

    /// Hands one metric to every plugin.
    func observe(metric kind: MetricKind, name: String, labelsJSON: String, value: Double) {
        for instance in instances.withLock({ $0 }) {
            instance.observe(metric: kind, name: name, labelsJSON: labelsJSON, value: value)
        }
    }

    /// Hands one event JSON to every plugin.
    func observe(eventJSON: [UInt8]) {
        for instance in instances.withLock({ $0 }) { instance.observe(eventJSON: eventJSON) }
    }

    /// Every plugin's metrics, one after the other; a plugin that fails to answer becomes a
    /// comment line naming it, so one broken exporter never hides the others.
    /// nil when no telemetry plugin is configured.
    func scrape() async -> String? {
        let list = instances.withLock { $0 }
        guard !list.isEmpty else { return nil }
        var text = ""
        for instance in list {
            let reply = await instance.scrape()
            if reply.status == .ok {
                text += String(decoding: reply.result, as: UTF8.self)
                if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            } else {
                text += "# telemetry plugin \(instance.name) did not answer: \(reply.status) \(reply.message.replacingOccurrences(of: "\n", with: " "))\n"
            }
        }
        return text
    }
}
