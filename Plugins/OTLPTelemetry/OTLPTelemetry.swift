import Foundation
import Logging
import OTel
import PluginAPI
import PluginKit
import ServiceLifecycle
import Synchronization
import TokenHubCore
import Tracing

/// Traces over OTLP, on swift-otel: one trace per request, built from its result (see
/// `RequestSpans`), batched and exported by swift-otel's batch span processor to a collector.
///
/// Observing copies the bytes into a bounded queue and returns; one task turns them into spans.
/// Past `queue_size` a result is dropped and counted (`tokenhub_otlp_dropped_total` through
/// `host_metric_record`), so an unreachable or slow collector costs traces, never request time.
///
/// The spans are made after the request, from its result, so their ids are the tracer's own:
/// a provider receives the client's `traceparent` as the client sent it (the engine passes
/// it on), which keeps the provider's spans in the client's trace, as siblings of ours.
final class OTLPTelemetry: SwiftTelemetry {
    private enum Item: Sendable {
        case result([UInt8], observedUnixMs: Double)
        case event([UInt8])
    }

    private let host: HostTable
    private let items: AsyncStream<Item>.Continuation
    private let worker: Task<Void, Never>
    private let exporter: Task<Void, Never>
    private let exporterGroup: ServiceGroup

    init(host: HostTable, configJSON: [UInt8]) throws {
        let settings = try OTLPSettings(configJSON: configJSON)
        self.host = host
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.diagnosticLogger = .custom(Logger(label: "otlp") { _ in HostLogHandler(host: host) })
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.endpoint = settings.endpoint
        configuration.traces.otlpExporter.protocol = settings.transport == "grpc" ? .grpc : .httpProtobuf
        configuration.traces.otlpExporter.timeout = .milliseconds(settings.exportTimeoutMs)
        configuration.traces.batchSpanProcessor.scheduleDelay = .milliseconds(settings.batchDelayMs)
        configuration.traces.batchSpanProcessor.exportTimeout = .milliseconds(settings.exportTimeoutMs)
        configuration.traces.batchSpanProcessor.maxQueueSize = settings.queueSize
        let backend: (factory: any Tracer, service: any Service)
        do {
            let made = try OTel.makeTracingBackend(configuration: configuration)
            backend = (made.factory, made.service)
        } catch {
            throw PluginError("OTLP exporter for \(settings.endpoint): \(error)")
        }
        let group = ServiceGroup(configuration: .init(services: [backend.service], logger: Logger(label: "otlp") { _ in HostLogHandler(host: host) }))
        exporterGroup = group
        exporter = Task {
            do {
                try await group.run()
            } catch {
                host.log(.error, "otlp: the exporter stopped: \(error)")
            }
        }
        let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingOldest(settings.queueSize))
        items = continuation
        let tracer = backend.factory
        worker = Task {
            var notes = RecentNotes(capacity: settings.queueSize)
            for await item in stream {
                switch item {
                case .event(let bytes):
                    notes.observe(eventJSON: bytes)
                case .result(let bytes, let observedUnixMs):
                    guard let result = try? JSONCoding.decode(LogResult.self, from: bytes) else { continue }
                    RequestSpans.record(result, endUnixMs: observedUnixMs, notes: notes.take(result.requestID), tracer: tracer)
                }
            }
        }
    }

    func observe(resultJSON: [UInt8]) {
        enqueue(.result(resultJSON, observedUnixMs: Date().timeIntervalSince1970 * 1000))
    }

    func observe(eventJSON: [UInt8]) {
        // Only the events that add to a request's trace are worth the queue.
        guard RecentNotes.isRelevant(eventJSON) else { return }
        enqueue(.event(eventJSON))
    }

    func observe(metric kind: MetricKind, name: String, labelsJSON: String, value: Double) {}

    func scrape() async -> String { "" }

    func stop() async {
        items.finish()
        await worker.value
        await exporterGroup.triggerGracefulShutdown()
        await exporter.value
    }

    private func enqueue(_ item: Item) {
        if case .dropped = items.yield(item) {
            host.recordMetric(.counter, name: "tokenhub_otlp_dropped_total", value: 1)
        }
    }
}

/// Per request id, what its events said (workflow id, a Temporal fallback), kept until its
/// result takes it; the oldest go first past `capacity`.
struct RecentNotes {
    let capacity: Int
    private var notes: [String: RequestNotes] = [:]
    private var order: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    static func isRelevant(_ eventJSON: [UInt8]) -> Bool {
        // A cheap test before parsing: the two types this exporter reads.
        let text = String(decoding: eventJSON, as: UTF8.self)
        return text.contains("\"workflow_started\"") || text.contains("\"temporal_fallback\"")
    }

    mutating func observe(eventJSON: [UInt8]) {
        guard let event = try? JSONValue.parse(eventJSON), let requestID = event["request_id"]?.stringValue else { return }
        var note = notes[requestID] ?? RequestNotes()
        switch event["type"]?.stringValue {
        case "workflow_started": note.workflowID = event["workflow_id"]?.stringValue
        case "temporal_fallback": note.fallback = (event["time_unix_ms"]?.numberValue ?? 0, event["reason"]?.stringValue ?? "")
        default: return
        }
        if notes[requestID] == nil {
            order.append(requestID)
            if order.count > capacity {
                notes[order.removeFirst()] = nil
            }
        }
        notes[requestID] = note
    }

    mutating func take(_ requestID: String) -> RequestNotes {
        notes.removeValue(forKey: requestID) ?? RequestNotes()
    }
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "otlp", version: "0.1.0", telemetry: OTLPTelemetry.self)
}
