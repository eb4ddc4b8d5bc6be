import PluginKit
import TokenHubCore

/// OTLPTelemetry's config: `{endpoint?, protocol?, service_name?, batch_delay_ms?,
/// export_timeout_ms?, queue_size?}`.
struct OTLPSettings: Sendable {
    /// The collector: `http(s)://host:port` (gRPC) or the full `/v1/traces` URL (HTTP).
    var endpoint: String
    /// `grpc` or `http/protobuf`.
    var transport: String
    var serviceName: String
    /// How long finished spans wait to be batched, and how long one export may take.
    var batchDelayMs: Int, exportTimeoutMs: Int
    /// The most requests waiting to become spans, and spans waiting to be exported; past it
    /// they are dropped (and counted), never waited for.
    var queueSize: Int

    static let keys = ["endpoint", "protocol", "service_name", "batch_delay_ms", "export_timeout_ms", "queue_size"]

    init(configJSON: [UInt8]) throws {
        let fields = try PluginConfig.fields(configJSON, plugin: "OTLPTelemetry", keys: Self.keys)
        transport = try fields.string("protocol", default: "grpc")
        guard ["grpc", "http/protobuf"].contains(transport) else {
            throw PluginError("config.protocol: expected grpc or http/protobuf, got \(transport)")
        }
        endpoint = try fields.string("endpoint", default: transport == "grpc" ? "http://127.0.0.1:4317" : "http://127.0.0.1:4318/v1/traces")
        guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://"), endpoint.count > 8 else {
            throw PluginError("config.endpoint: expected http://host:port or https://host:port, got \(endpoint)")
        }
        serviceName = try fields.string("service_name", default: "tokenhub")
        guard !serviceName.isEmpty else { throw PluginError("config.service_name: must not be empty") }
        batchDelayMs = try fields.int("batch_delay_ms", default: 1000)
        guard (1...60_000).contains(batchDelayMs) else { throw PluginError("config.batch_delay_ms: expected 1 to 60000, got \(batchDelayMs)") }
        exportTimeoutMs = try fields.int("export_timeout_ms", default: 10_000)
        guard (100...120_000).contains(exportTimeoutMs) else {
            throw PluginError("config.export_timeout_ms: expected 100 to 120000, got \(exportTimeoutMs)")
        }
        queueSize = try fields.int("queue_size", default: 8192)
        guard (16...1_000_000).contains(queueSize) else { throw PluginError("config.queue_size: expected 16 to 1000000, got \(queueSize)") }
    }
}
