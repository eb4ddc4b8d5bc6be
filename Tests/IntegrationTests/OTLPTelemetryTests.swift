import Foundation
import Testing
import TestSupport
import TokenHubCore

/// `Tests/Fixtures/otlp_receiver.py` as a process: a real OTLP/gRPC collector endpoint (grpcio
/// and opentelemetry-proto) that appends every span it receives to a file as a JSON line.
final class OTLPReceiver: @unchecked Sendable {
    let server: BackgroundProcess
    let port: Int
    let spansFile: String

    init() async throws {
        spansFile = FileManager.default.temporaryDirectory.appendingPathComponent("spans-\(UUID().uuidString).jsonl").path
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/otlp_receiver.py").path
        let server = try BackgroundProcess("/usr/bin/env", ["python3", script, "--out", spansFile])
        let line = try await offThread { server.readOutput() }
        guard line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            server.stop()
            throw SubprocessError(message: "the OTLP receiver did not report its port (are grpcio and opentelemetry-proto installed?): \(line)")
        }
        self.server = server
        self.port = port
    }

    /// The spans received so far.
    var spans: [JSONValue] {
        let text = (try? String(contentsOfFile: spansFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: spansFile)
    }
}

@Suite("OTLP traces", .serialized)
struct OTLPTelemetryTests {
    static let clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let clientSpanID = "00f067aa0ba902b7"

    func config(_ receiverPort: Int, mock: MockUpstream) throws -> String {
        try writeConfig("""
        dispatch: {chain: [DirectDispatch]}
        telemetry:
          - {plugin: OTLPTelemetry, config: {endpoint: "http://127.0.0.1:\(receiverPort)", batch_delay_ms: 100, export_timeout_ms: 3000}}
        providers:
          - {id: echo, type: echo}
          - {id: mock, type: openai, base_url: \(mock.openAIBaseURL)}
        models:
          - {id: echo-1, provider: echo}
          - {id: mock-1, provider: mock, weight: 0}
        """)
    }

    @Test("one trace per request: request -> dispatcher -> one client span per provider call, the client's trace continued and passed to the provider, GenAI attributes")
    func tracesPerRequest() async throws {
        let receiver = try await OTLPReceiver()
        defer { receiver.stop() }
        let mock = try await MockUpstream()
        defer { mock.stop() }
        // The first call fails (a retryable 500), the retry answers: two provider calls.
        mock.script("mock-1", [.status(500, body: #"{"error":{"message":"boom"}}"#)])
        let server = try await RunningTokenhub.start(configPath: try config(receiver.port, mock: mock))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let traceparent = "00-\(Self.clientTraceID)-\(Self.clientSpanID)-01"
        let traced = try await client.post("/v1/chat", body: #"{"request":{"model_hint":"mock-1","model_strict":true,"messages":[{"role":"user","content":"hi"}]}}"#,
                                           headers: ["traceparent": traceparent])
        #expect(traced.status == 200, "\(String(decoding: traced.body, as: UTF8.self))")
        let plain = try await client.post("/v1/chat", body: #"{"request":{"model_hint":"echo-1","messages":[{"role":"user","content":"hi"}]}}"#)
        let tracedID = try #require(traced.json?["request_id"]?.stringValue), plainID = try #require(plain.json?["request_id"]?.stringValue)

        #expect(mock.calls.count == 2 && mock.calls.allSatisfy { $0.headers["traceparent"] == traceparent },
                "every provider call carried the client's traceparent: \(mock.calls.map { $0.headers["traceparent"] ?? "none" })")

        var spans: [JSONValue] = []
        for _ in 0..<150 {
            spans = receiver.spans
            let roots = spans.filter { $0["kind"]?.numberValue == 2 }.compactMap { $0["attributes"]?["tokenhub.request_id"]?.stringValue }
            if roots.contains(tracedID) && roots.contains(plainID) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let root = try #require(spans.first { $0["attributes"]?["tokenhub.request_id"]?.stringValue == tracedID }, "\(spans)")
        #expect(root["trace_id"]?.stringValue == Self.clientTraceID, "the client's trace continues")
        #expect(root["parent_span_id"]?.stringValue == Self.clientSpanID, "the request span is the client span's child")
        #expect(root["name"]?.stringValue == "chat mock-1" && root["service_name"]?.stringValue == "tokenhub")
        let attributes = try #require(root["attributes"])
        #expect(attributes["gen_ai.operation.name"]?.stringValue == "chat")
        #expect(attributes["gen_ai.request.model"]?.stringValue == "mock-1" && attributes["gen_ai.provider.name"]?.stringValue == "mock")
        #expect(attributes["gen_ai.usage.input_tokens"] != nil && attributes["gen_ai.usage.output_tokens"] != nil, "\(attributes)")
        #expect(attributes["tokenhub.dispatcher"]?.stringValue == "direct")

        let inTrace = spans.filter { $0["trace_id"]?.stringValue == Self.clientTraceID }
        let dispatcher = try #require(inTrace.first { $0["parent_span_id"] == root["span_id"] }, "\(inTrace)")
        #expect(dispatcher["name"]?.stringValue == "dispatch direct")
        let calls = inTrace.filter { $0["parent_span_id"] == dispatcher["span_id"] }
            .sorted { ($0["start_unix_nano"]?.numberValue ?? 0) < ($1["start_unix_nano"]?.numberValue ?? 0) }
        #expect(calls.count == 2 && calls.allSatisfy { $0["kind"]?.numberValue == 3 && $0["name"]?.stringValue == "chat mock-1" }, "\(calls)")
        #expect(calls.first?["status_code"]?.numberValue == 2 && calls.first?["attributes"]?["error.type"]?.stringValue == "transient",
                "the failed call is an error span")
        #expect(calls.last?["status_code"]?.numberValue != 2)
        #expect(inTrace.count == 4, "request, dispatcher and two calls: \(inTrace.map { $0["name"]?.stringValue ?? "" })")
        for span in inTrace {
            #expect((span["start_unix_nano"]?.numberValue ?? 0) >= (root["start_unix_nano"]?.numberValue ?? 0))
            #expect((span["end_unix_nano"]?.numberValue ?? 0) <= (root["end_unix_nano"]?.numberValue ?? 0) + 1_000_000)
        }

        let plainRoot = try #require(spans.first { $0["attributes"]?["tokenhub.request_id"]?.stringValue == plainID })
        #expect(plainRoot["parent_span_id"]?.stringValue == "", "without a traceparent the request starts its own trace")
        #expect(plainRoot["trace_id"]?.stringValue != Self.clientTraceID)

        // A streamed completion: its provider call's span lasts until the stream's end.
        mock.script("mock-1", [.stream(["a", "b", "c", "d"], delayMs: 100)])
        let streamTrace = "5bf92f3577b34da6a3ce929d0e0e4737"
        let streamed = try await client.post("/v1/chat/completions", body: #"{"model":"mock-1","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
                                             headers: ["traceparent": "00-\(streamTrace)-\(Self.clientSpanID)-01"])
        #expect(streamed.status == 200 && String(decoding: streamed.body, as: UTF8.self).contains("[DONE]"))
        var streamSpans: [JSONValue] = []
        for _ in 0..<150 {
            streamSpans = receiver.spans.filter { $0["trace_id"]?.stringValue == streamTrace }
            if streamSpans.count >= 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let streamRoot = try #require(streamSpans.first { $0["parent_span_id"]?.stringValue == Self.clientSpanID }, "\(streamSpans)")
        let relay = try #require(streamSpans.first { $0["parent_span_id"] == streamRoot["span_id"] }, "\(streamSpans)")
        #expect(relay["name"]?.stringValue == "dispatch stream")
        let streamCall = try #require(streamSpans.first { $0["parent_span_id"] == relay["span_id"] }, "\(streamSpans)")
        #expect(streamCall["name"]?.stringValue == "chat mock-1" && streamCall["kind"]?.numberValue == 3)
        let callNanos = (streamCall["end_unix_nano"]?.numberValue ?? 0) - (streamCall["start_unix_nano"]?.numberValue ?? 0)
        #expect(callNanos >= 300_000_000, "the provider span covers the four chunks 100 ms apart: \(callNanos) ns")
        #expect((streamCall["end_unix_nano"]?.numberValue ?? 0) <= (streamRoot["end_unix_nano"]?.numberValue ?? 0) + 1_000_000)
        #expect(await server.stopped() == 0)
    }

    @Test("with the collector down, every request is answered and none waits on the export")
    func collectorDown() async throws {
        let receiver = try await OTLPReceiver()
        let port = receiver.port
        receiver.stop()
        let mock = try await MockUpstream()
        defer { mock.stop() }
        let server = try await RunningTokenhub.start(configPath: try config(port, mock: mock))
        let client = HTTPTestClient(baseURL: server.baseURL)
        var slowest = Duration.zero
        for _ in 0..<60 {
            let started = ContinuousClock.now
            let answer = try await client.post("/v1/chat", body: #"{"request":{"model_hint":"echo-1","messages":[{"role":"user","content":"hi"}]}}"#)
            slowest = max(slowest, ContinuousClock.now - started)
            #expect(answer.status == 200)
            try await Task.sleep(for: .milliseconds(20))
        }
        // The export timeout is 3 s: a request that waited on the collector would take that long.
        #expect(slowest < .seconds(2), "a request waited \(slowest)")
        #expect(await server.stopped() == 0, "the gateway stops cleanly with spans it could not deliver")
    }
}
