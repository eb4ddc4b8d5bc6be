import Foundation
import Testing
import TestSupport
import TokenHubCore

/// Telemetry plugins on a running `tokenhub serve`: PrometheusTelemetry (Swift) and a C
/// plugin built against the header alone, both fed every result and served at /metrics.
@Suite("Telemetry and /metrics", .serialized)
struct TelemetryTests {
    @Test("/metrics serves every telemetry plugin's text, in valid exposition format, counting each request once")
    func metrics() async throws {
        let cPlugin = try await CPluginBuilder.build("count_telemetry")
        let mock = try await MockUpstream()
        defer { mock.stop() }
        let path = try writeConfig("""
        dispatch: {chain: [DirectDispatch]}
        telemetry: [PrometheusTelemetry, \(cPlugin)]
        providers:
          - {id: echo, type: echo}
          - {id: mock, type: openai, base_url: \(mock.openAIBaseURL)}
          - {id: failing, type: openai, base_url: \(mock.openAIBaseURL)}
        models:
          - {id: echo-1, provider: echo}
          - {id: mock-1, provider: mock, input_price_per_1k: 0.001, output_price_per_1k: 0.002}
          - {id: bad-1, provider: failing, weight: 0}
        """)
        let server = try await RunningTokenhub.start(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        for _ in 0..<3 {
            #expect(try await client.post("/v1/chat/completions", body: #"{"model":"echo-1","messages":[{"role":"user","content":"hi"}]}"#).status == 200)
        }
        #expect(try await client.post("/v1/chat/completions", body: #"{"model":"mock-1","messages":[{"role":"user","content":"hi"}]}"#).status == 200)
        #expect(try await client.post("/v1/chat/completions", body: #"{"messages":[]}"#).status == 400)
        // Consecutive 500s (each request retries them) take the failing provider out of
        // `healthy`: health events.
        mock.script("bad-1", Array(repeating: .status(500, body: #"{"error":{"message":"boom"}}"#), count: 6))
        for _ in 0..<2 {
            _ = try await client.post("/v1/chat", body: #"{"request":{"model_hint":"bad-1","messages":[{"role":"user","content":"hi"}]},"policy":{"max_latency_ms":5000}}"#)
        }

        // Results reach telemetry as they are recorded, which may trail the answer slightly.
        var text = ""
        for _ in 0..<100 {
            let answer = try await client.get("/metrics")
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            text = String(decoding: answer.body, as: UTF8.self)
            if text.contains("c_telemetry_results_total 6") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(text.contains("c_telemetry_results_total 6"), "the C plugin saw each dispatched request once:\n\(text)")
        let samples = try ExpositionFormat.parse(text)
        let promtool = try await Promtool.check(text)
        #expect(promtool.status == 0, "promtool check metrics: \(promtool.stdout)\(promtool.stderr)\n\(text)")
        let echo = #"dispatcher="direct",error_class="",kind="chat",mode="normal",model="echo-1",provider="echo",status="ok""#
        #expect(samples[#"tokenhub_requests_total{\#(echo)}"#] == 3, "\(text)")
        let state = { (name: String) in samples[#"tokenhub_provider_state{provider="failing",state="\#(name)"}"#] }
        #expect(state("healthy") == 0 && (state("degraded") ?? 0) + (state("down") ?? 0) == 1,
                "the health events reached the exporter:\n\(text)")
        #expect((samples[#"tokenhub_events_total{type="provider_health"}"#] ?? 0) >= 1)
        #expect(samples[#"tokenhub_request_duration_seconds_count{kind="chat",model="echo-1",provider="echo"}"#] == 3)
        #expect(samples[#"tokenhub_request_duration_seconds_bucket{kind="chat",model="mock-1",provider="mock",le="+Inf"}"#] == 1)
        #expect((samples[#"tokenhub_cost_usd_total{model="mock-1",provider="mock"}"#] ?? 0) > 0, "the priced model's cost is counted")
        #expect(samples[#"tokenhub_tokens_total{model="mock-1",provider="mock"}"#] != nil, "the provider's usage is counted")
        #expect(samples[#"tokenhub_http_responses_total{route="/v1/chat/completions",status="200"}"#] == 4)
        #expect(samples[#"tokenhub_http_responses_total{route="/v1/chat/completions",status="400"}"#] == 1,
                "a request no dispatcher saw is still counted")
        #expect(samples["tokenhub_telemetry_rejected_total"] == 2,
                "the C plugin's two clashing metrics (another kind under a known name; no labels where there were) are refused, not fatal")
        #expect(samples[#"c_telemetry_note{note="say \"hi\"\n"}"#] == 1,
                "a plugin's host_metric_record reaches PrometheusTelemetry, its label escaped:\n\(text)")
        #expect(await server.stopped() == 0)
    }

    @Test("/metrics is 404 naming the fix when no telemetry plugin is configured")
    func noTelemetry() async throws {
        let server = try await RunningTokenhub.start(configPath: try writeConfig("dispatch: {chain: [DirectDispatch]}\n" + echoRegistryYAML))
        let answer = try await HTTPTestClient(baseURL: server.baseURL).get("/metrics")
        #expect(answer.status == 404)
        #expect(answer.json?["error"]?["message"]?.stringValue?.contains("telemetry: [PrometheusTelemetry]") == true)
        #expect(await server.stopped() == 0)
    }
    @Test("/metrics stays small whatever paths clients send: answers are labelled by route, never by the raw path")
    func boundedSeries() async throws {
        let server = try await RunningTokenhub.start(configPath: try writeConfig("dispatch: {chain: [DirectDispatch]}\ntelemetry: [PrometheusTelemetry]\n\(echoRegistryYAML)"))
        defer { server.stop() }
        let client = HTTPTestClient(baseURL: server.baseURL)
        let before = try await client.get("/metrics").body.count
        for index in 0..<600 {
            let path = index % 2 == 0 ? "/v1//x\(index)//models" : "/v1/models?variant=\(index)"
            _ = try await client.get(path)
            if index % 3 == 0 { _ = try await client.post("/v1/chat?x=\(index)", body: "{}") }
        }
        let text = String(decoding: try await client.get("/metrics").body, as: UTF8.self)
        #expect(!text.contains("x10"), "a raw path became a label")
        #expect(!text.contains("variant"))
        #expect(text.contains(#"route="/v1/models""#))
        #expect(text.count < before + 4000, "/metrics grew from \(before) to \(text.count) bytes")
    }
}

/// Prometheus's own linter (`promtool check metrics`, Debian's `prometheus` package) on an
/// exposition text.
enum Promtool {
    static func check(_ text: String) async throws -> Subprocess.Result {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await Subprocess.running("/bin/sh", ["-c", "promtool check metrics < '\(file.path)'"])
    }
}

/// A strict reader of Prometheus text format 0.0.4, enough to fail on what Prometheus would
/// reject: every sample's family has one `# TYPE` before it, names and labels are well formed,
/// values parse, and each histogram's buckets are cumulative and end with `+Inf` equal to
/// `_count`.
enum ExpositionFormat {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// Samples by `name{labels}` (exactly as written).
    static func parse(_ text: String) throws -> [String: Double] {
        var types: [String: String] = [:]
        var samples: [String: Double] = [:]
        var lastBucket: [String: Double] = [:]
        let name = #"[a-zA-Z_:][a-zA-Z0-9_:]*"#
        let sample = try Regex(#"^(\#(name))(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (\S+)$"#)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                    throw Invalid(description: "line \(index + 1): bad TYPE: \(line)")
                }
                guard types[String(parts[2])] == nil else { throw Invalid(description: "line \(index + 1): second TYPE for \(parts[2])") }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let match = try sample.wholeMatch(in: String(line)) else { throw Invalid(description: "line \(index + 1): not a sample: \(line)") }
            let metric = String(match.output[1].substring!)
            let valueText = String(match.output.last!.substring!)
            guard let value = valueText == "+Inf" ? Double.infinity : Double(valueText) else {
                throw Invalid(description: "line \(index + 1): bad value \(valueText)")
            }
            let family = types[metric] != nil ? metric
                : ["_bucket", "_sum", "_count"].compactMap { metric.hasSuffix($0) ? String(metric.dropLast($0.count)) : nil }.first { types[$0] == "histogram" }
            guard let family, types[family] != nil else { throw Invalid(description: "line \(index + 1): \(metric) has no TYPE before it") }
            let key = String(line.split(separator: " ").dropLast().joined(separator: " "))
            guard samples[key] == nil else { throw Invalid(description: "line \(index + 1): duplicate sample \(key)") }
            samples[key] = value
            if metric.hasSuffix("_bucket") {
                let series = key.replacing(#/,?le="[^"]*"/#, with: "")
                guard value >= lastBucket[series, default: 0] else { throw Invalid(description: "line \(index + 1): buckets not cumulative") }
                lastBucket[series] = value
            }
        }
        for (key, value) in samples where key.contains("_bucket{") && key.contains(#"le="+Inf""#) {
            let count = key.replacing(#/_bucket\{/#, with: "_count{").replacing(#/,?le="\+Inf"/#, with: "").replacing("{}", with: "")
            guard samples[count] == value else { throw Invalid(description: "\(key) is \(value), \(count) is \(samples[count] ?? -1)") }
        }
        return samples
    }

}
