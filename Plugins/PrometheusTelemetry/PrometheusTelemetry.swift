import PluginAPI
import PluginKit
import Synchronization
import TokenHubCore

/// Prometheus metrics for TokenHub: request counts, latency, estimated cost and tokens per
/// model and provider from every request's result; events by type and each provider's health
/// state from the events; plus every metric the host and plugins record through
/// `host_metric_record`. Served as text at the host's `GET /metrics`.
///
/// Everything stays in memory; a scrape renders it. Observing takes one short lock.
final class PrometheusTelemetry: SwiftTelemetry {
    private let families = Mutex(MetricFamilies())
    private let rejected = Mutex(0.0)

    /// Request latency buckets in seconds: LLM calls run from milliseconds (cache, echo) to
    /// a minute.
    static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    init(host: HostTable, configJSON: [UInt8]) throws {
        let config = try JSONValue.parse(configJSON.isEmpty ? Array("{}".utf8) : configJSON)
        if let unknown = config.objectValue?.keys.sorted().first {
            throw PluginError("config.\(unknown): unknown key (PrometheusTelemetry takes no settings)")
        }
    }

    func observe(resultJSON: [UInt8]) {
        guard let result = try? JSONCoding.decode(LogResult.self, from: resultJSON) else {
            rejected.withLock { $0 += 1 }
            return
        }
        let decision = result.output.decision
        let model = (name: "model", value: decision.modelID), provider = (name: "provider", value: decision.providerID)
        let status = result.output.error.isEmpty ? "ok" : "error"
        let tokens = result.output.response["usage"]?["total_tokens"]?.numberValue
        families.withLock { families in
            families.record(.counter, "tokenhub_requests_total", help: "Requests answered, by outcome.", labels: [
                ("kind", result.kind), ("mode", result.mode), model, provider, ("dispatcher", result.dispatcher),
                ("status", status), ("error_class", result.output.errorClass?.rawValue ?? ""),
            ], value: 1)
            families.record(.histogram, "tokenhub_request_duration_seconds", help: "Request latency as the dispatcher measured it.",
                            labels: [("kind", result.kind), model, provider], value: Double(result.output.latencyMs) / 1000,
                            buckets: Self.latencyBuckets)
            families.record(.counter, "tokenhub_cost_usd_total", help: "Estimated provider cost in USD.",
                            labels: [model, provider], value: max(0, decision.estimatedCostUSD))
            if let tokens {
                families.record(.counter, "tokenhub_tokens_total", help: "Tokens the providers reported (prompt and completion).",
                                labels: [model, provider], value: max(0, tokens))
            }
        }
    }

    func observe(metric kind: MetricKind, name: String, labelsJSON: String, value: Double) {
        let familyKind: MetricFamilies.Kind
        switch kind {
        case .counter: familyKind = .counter
        case .gauge: familyKind = .gauge
        case .histogram: familyKind = .histogram
        default:
            rejected.withLock { $0 += 1 }
            return
        }
        var labels: MetricFamilies.Labels = []
        if !labelsJSON.isEmpty {
            guard let object = (try? JSONValue.parse(Array(labelsJSON.utf8)))?.objectValue,
                  object.values.allSatisfy({ $0.stringValue != nil }) else {
                rejected.withLock { $0 += 1 }
                return
            }
            labels = object.keys.sorted().map { ($0, object[$0]!.stringValue!) }
        }
        let recorded = families.withLock { $0.record(familyKind, name, help: "Recorded through host_metric_record.", labels: labels, value: value) }
        if !recorded { rejected.withLock { $0 += 1 } }
    }

    func observe(eventJSON: [UInt8]) {
        guard let event = try? JSONValue.parse(eventJSON), let type = event["type"]?.stringValue else {
            rejected.withLock { $0 += 1 }
            return
        }
        families.withLock { families in
            families.record(.counter, "tokenhub_events_total", help: "Events published by the host and plugins, by type.",
                            labels: [("type", type)], value: 1)
            if type == "provider_health", let provider = event["provider"]?.stringValue, let state = event["state"]?.stringValue {
                // One series per state, 1 for the current one: `max by (provider)` finds it,
                // and an alert can match `state="down"`.
                for candidate in Self.healthStates {
                    families.record(.gauge, "tokenhub_provider_state", help: "1 for the provider's current health state, 0 for the others.",
                                    labels: [("provider", provider), ("state", candidate)], value: candidate == state ? 1 : 0)
                }
            }
        }
    }

    /// The engine's provider health states.
    static let healthStates = ["healthy", "degraded", "down"]

    func scrape() async -> String {
        let rejectedCount = rejected.withLock { $0 }
        var text = families.withLock { $0.text }
        text += "# HELP tokenhub_telemetry_rejected_total Results and metrics this exporter could not record (bad name, labels or kind).\n"
        text += "# TYPE tokenhub_telemetry_rejected_total counter\ntokenhub_telemetry_rejected_total \(MetricFamilies.format(rejectedCount))\n"
        return text
    }

    func stop() async {}
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "prometheus", version: "0.1.0", telemetry: PrometheusTelemetry.self)
}
