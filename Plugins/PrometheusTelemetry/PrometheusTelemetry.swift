import PluginAPI
import PluginKit
import Prometheus
import Synchronization
import TokenHubCore

/// Prometheus metrics for TokenHub: request counts, latency, estimated cost and tokens per
/// model and provider from every request's result; events by type and each provider's health
/// state from the events; plus every metric the host and plugins record through
/// `host_metric_record`. Served as text at the host's `GET /metrics`.
///
/// Everything stays in memory; a scrape renders it. Observing takes one short lock.
final class PrometheusTelemetry: SwiftTelemetry {
    /// swift-prometheus holds the series and writes the exposition text.
    private let registry = PrometheusCollectorRegistry()
    /// Admission in front of the registry (see `MetricCatalog`).
    private let catalog = Mutex(MetricCatalog())
    private let rejected: Counter
    private let dropped: Counter

    /// Request latency buckets in seconds: LLM calls run from milliseconds (cache, echo) to
    /// a minute.
    static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    /// Prometheus's default histogram buckets (seconds), for histograms other plugins record.
    static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    init(host: HostTable, configJSON: [UInt8]) throws {
        _ = try PluginConfig.fields(configJSON, plugin: "PrometheusTelemetry", keys: [])
        rejected = registry.makeCounter(name: "tokenhub_telemetry_rejected_total",
                                        help: "Results, metrics and events this exporter could not record (bad name, labels, kind or JSON).")
        catalog.withLock { catalog in
            for (kind, name, help) in Self.ownFamilies { catalog.reserve(kind, name, help: help, labelled: true) }
        }
        dropped = registry.makeCounter(name: "tokenhub_telemetry_dropped_series_total",
                                       help: "Observations dropped because their series was new past the caps on families and series.")
    }

    /// Records one observation if the catalog admits it; counts it as rejected or dropped if not.
    private func record(_ kind: MetricCatalog.Kind, _ name: String, help: String, labels: MetricCatalog.Labels, value: Double,
                        buckets: [Double] = PrometheusTelemetry.defaultBuckets) {
        // One order for one label set, whoever records it: the registry keys series by it.
        let labels = labels.sorted { $0.0 < $1.0 }
        switch catalog.withLock({ $0.admit(kind, name, help: help, labels: labels, value: value) }) {
        case .rejected: rejected.increment()
        case .dropped: dropped.increment()
        case .record(let help):
            switch kind {
            case .counter: registry.makeCounter(name: name, labels: labels, help: help).increment(by: value)
            case .gauge: registry.makeGauge(name: name, labels: labels, help: help).set(to: value)
            case .histogram: registry.makeValueHistogram(name: name, labels: labels, buckets: buckets, help: help).record(value)
            }
        }
    }

    func observe(resultJSON: [UInt8]) {
        guard let result = try? JSONCoding.decode(LogResult.self, from: resultJSON) else {
            rejected.increment()
            return
        }
        let decision = result.output.decision
        let model = (name: "model", value: decision.modelID), provider = (name: "provider", value: decision.providerID)
        let status = result.output.error.isEmpty ? "ok" : "error"
        let tokens = result.output.response["usage"]?["total_tokens"]?.numberValue
        do {
            record(.counter, "tokenhub_requests_total", help: "Requests answered, by outcome.", labels: [
                ("kind", result.kind), ("mode", result.mode), model, provider, ("dispatcher", result.dispatcher),
                ("status", status), ("error_class", result.output.errorClass?.rawValue ?? ""),
            ], value: 1)
            record(.histogram, "tokenhub_request_duration_seconds", help: "Request latency as the dispatcher measured it.",
                            labels: [("kind", result.kind), model, provider], value: Double(result.output.latencyMs) / 1000,
                            buckets: Self.latencyBuckets)
            record(.counter, "tokenhub_cost_usd_total", help: "Estimated provider cost in USD.",
                            labels: [model, provider], value: max(0, decision.estimatedCostUSD))
            if let tokens {
                record(.counter, "tokenhub_tokens_total", help: "Tokens the providers reported (prompt and completion).",
                                labels: [model, provider], value: max(0, tokens))
            }
        }
    }

    func observe(metric kind: MetricKind, name: String, labelsJSON: String, value: Double) {
        let familyKind: MetricCatalog.Kind
        switch kind {
        case .counter: familyKind = .counter
        case .gauge: familyKind = .gauge
        case .histogram: familyKind = .histogram
        default:
            rejected.increment()
            return
        }
        var labels: MetricCatalog.Labels = []
        if !labelsJSON.isEmpty {
            guard let object = (try? JSONValue.parse(Array(labelsJSON.utf8)))?.objectValue,
                  object.values.allSatisfy({ $0.stringValue != nil }) else {
                rejected.increment()
                return
            }
            labels = object.keys.sorted().map { ($0, object[$0]!.stringValue!) }
        }
        record(familyKind, name, help: "Recorded through host_metric_record.", labels: labels, value: value)
    }

    func observe(eventJSON: [UInt8]) {
        guard let event = try? JSONValue.parse(eventJSON), let type = event["type"]?.stringValue else {
            rejected.increment()
            return
        }
        do {
            record(.counter, "tokenhub_events_total", help: "Events published by the host and plugins, by type.",
                            labels: [("type", type)], value: 1)
            if type == "provider_health", let provider = event["provider"]?.stringValue, let state = event["state"]?.stringValue {
                // One series per state, 1 for the current one: `max by (provider)` finds it,
                // and an alert can match `state="down"`.
                for candidate in Self.healthStates {
                    record(.gauge, "tokenhub_provider_state", help: "1 for the provider's current health state, 0 for the others.",
                                    labels: [("provider", provider), ("state", candidate)], value: candidate == state ? 1 : 0)
                }
            }
        }
    }

    /// The families this plugin records itself (all labelled), reserved at start.
    static let ownFamilies: [(MetricCatalog.Kind, String, String)] = [
        (.counter, "tokenhub_requests_total", "Requests answered, by outcome."),
        (.histogram, "tokenhub_request_duration_seconds", "Request latency as the dispatcher measured it."),
        (.counter, "tokenhub_cost_usd_total", "Estimated provider cost in USD."),
        (.counter, "tokenhub_tokens_total", "Tokens the providers reported (prompt and completion)."),
        (.counter, "tokenhub_events_total", "Events published by the host and plugins, by type."),
        (.gauge, "tokenhub_provider_state", "1 for the provider's current health state, 0 for the others."),
    ]

    /// The engine's provider health states.
    static let healthStates = ["healthy", "degraded", "down"]

    func scrape() async -> String {
        registry.emitToString()
    }

    func stop() async {}
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "prometheus", version: "0.1.0", telemetry: PrometheusTelemetry.self)
}
