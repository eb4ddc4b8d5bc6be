import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TestSupport
import TokenHubCore

/// The client API of a running `tokenhub serve` in front of scripted providers.
@Suite("Gateway API against mock providers", .serialized)
struct GatewayAPITests {
    static func config(_ mock: MockUpstream, extra: String = "") throws -> String {
        try writeConfig("""
        server:
          body_limit_bytes: 65536
        \(extra)
        dispatch:
          chain: [DirectDispatch]
        providers:
          - id: mock
            type: openai
            base_url: \(mock.openAIBaseURL)
            api_key: sk-test-provider-secret
          - id: claude
            type: anthropic
            base_url: \(mock.anthropicBaseURL)
            api_key: sk-ant-provider-secret
        models:
          - {id: gpt-mock, provider: mock, weight: 6, max_context_tokens: 16000, input_price_per_1k: 0.001, output_price_per_1k: 0.002}
          - {id: claude-mock, provider: claude, weight: 8, max_context_tokens: 200000, input_price_per_1k: 0.003, output_price_per_1k: 0.015}
        """)
    }

    @Test("/v1/chat/completions: OpenAI shape, model hint, routing headers; secrets never in the log")
    func completions() async throws {
        let mock = try await MockUpstream()
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let answer = try await client.post("/v1/chat/completions", body: #"{"model":"gpt-mock","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#)
        #expect(answer.status == 200)
        let json = try #require(answer.json)
        #expect(json["object"] == .string("chat.completion"))
        #expect(json["model"] == .string("gpt-mock"))
        #expect(json["choices"]?.arrayValue?.first?["message"]?["content"] == .string("mock:gpt-mock:hi"))
        #expect(json["usage"]?["total_tokens"] == .number(30))
        #expect(answer.header("X-TokenHub-Routing-Reason") == "routed-hint-exact")
        #expect(mock.calls.last?.body["temperature"] == .number(0.2), "parameters pass through")

        let routed = try await client.post("/v1/chat/completions", body: #"{"model":"*","messages":[{"role":"user","content":"route me"}]}"#)
        #expect(routed.status == 200)
        #expect(routed.header("X-TokenHub-Routing-Reason")?.hasPrefix("routed-weight-") == true)

        let models = try await client.get("/v1/models")
        #expect(models.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }.sorted() == ["claude-mock", "gpt-mock"])

        let bad = try await client.post("/v1/chat/completions", body: #"{"model":"gpt-mock","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#)
        #expect(bad.status == 400)
        #expect(bad.json?["error"]?["param"] == .string("temperature"))
        await server.stopped()
        #expect(!server.log.contains("sk-test-provider-secret"))
        #expect(!server.log.contains("sk-ant-provider-secret"))
    }

    @Test("upstream failures: 502 with the error class; failover is invisible to the client")
    func upstreamFailures() async throws {
        let mock = try await MockUpstream()
        mock.script("claude-mock", [.status(500, body: "boom"), .status(500, body: "boom"), .status(500, body: "boom")])
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let failedOver = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]},"policy":{"mode":"high_confidence"}}"#)
        #expect(failedOver.status == 200)
        #expect(failedOver.json?["negotiated_model"] == .string("gpt-mock"))
        #expect(failedOver.json?["routing_reason"] == .string("failover-transient"))

        mock.script("gpt-mock", [.status(401, body: "invalid api key")])
        let pinned = try await client.post("/v1/chat/completions", body: #"{"model":"gpt-mock","messages":[{"role":"user","content":"x"}]}"#)
        #expect(pinned.status == 502)
        #expect(pinned.json?["error"]?["code"] == .string("fatal"))
        #expect(pinned.json?["error"]?["type"] == .string("upstream_error"))
        await server.stopped()
    }

    @Test("stream: true relays SSE chunks ending with [DONE]")
    func streaming() async throws {
        let mock = try await MockUpstream()
        mock.script("gpt-mock", [.stream(["one ", "two ", "three"])])
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock))
        let answer = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat/completions",
            body: #"{"model":"gpt-mock","stream":true,"messages":[{"role":"user","content":"count"}]}"#)
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type") == "text/event-stream")
        let events = String(decoding: answer.body, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        let text = events.dropLast().compactMap { event -> String? in
            let json = try? JSONDecoder().decode(JSONValue.self, from: Data(event.dropFirst(6).utf8))
            return json?["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue
        }.joined()
        #expect(text == "one two three")
        await server.stopped()
    }

    @Test("a client that disconnects mid-stream cancels the upstream call")
    func disconnectCancelsUpstream() async throws {
        let mock = try await MockUpstream()
        mock.script("gpt-mock", [.stream((1...50).map { "piece\($0) " }, delayMs: 100)])
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock))
        var request = HTTPClientRequest(url: server.baseURL + "/v1/chat/completions")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"model":"gpt-mock","stream":true,"messages":[{"role":"user","content":"go"}]}"#))
        let (firstChunk, signal) = AsyncStream.makeStream(of: Void.self)
        let reader = Task {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            for try await _ in response.body {
                signal.yield()
                try await Task.sleep(for: .seconds(30))
            }
        }
        var iterator = firstChunk.makeAsyncIterator()
        _ = await iterator.next()
        reader.cancel()
        var waited = 0
        while mock.abortedStreams == 0, waited < 50 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        #expect(mock.abortedStreams == 1, "the upstream stream was abandoned by the gateway")
        let health = try await HTTPTestClient(baseURL: server.baseURL).get("/healthz")
        #expect(health.status == 200)
        await server.stopped()
    }

    @Test("/v1/plan runs each orchestration mode through the dispatch chain")
    func plan() async throws {
        let mock = try await MockUpstream()
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let task = #""request":{"messages":[{"role":"user","content":"design a cache"}]}"#
        let expectations: [(String, [String])] = [
            ("planning", ["plan"]),
            ("adversarial", ["initial_plan", "critique", "refined_plan"]),
            ("vote", ["responses", "selected", "judge"]),
            ("refine", ["refined_response", "iterations", "model"]),
        ]
        for (mode, keys) in expectations {
            let answer = try await client.post("/v1/plan", body: "{\(task),\"orchestration\":{\"mode\":\"\(mode)\",\"primary_model_id\":\"gpt-mock\",\"review_model_id\":\"claude-mock\"}}")
            #expect(answer.status == 200, "\(mode): \(String(decoding: answer.body, as: UTF8.self))")
            for key in keys { #expect(answer.json?[key] != nil, "\(mode) has \(key)") }
            #expect(answer.json?["routing_reason"] == .string("orchestrated-\(mode)"))
            #expect(answer.json?["dispatcher"] == .string("direct"))
            #expect((answer.json?["estimated_cost_usd"]?.numberValue ?? 0) > 0)
        }
        let bad = try await client.post("/v1/plan", body: "{\(task),\"orchestration\":{\"mode\":\"chaos\"}}")
        #expect(bad.status == 400)
        #expect(bad.json?["error"]?["param"] == .string("orchestration.mode"))
        await server.stopped()
    }

    @Test("@@tokenhub directives override the policy and are stripped before forwarding")
    func directives() async throws {
        let mock = try await MockUpstream()
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"@@tokenhub mode=cheap model=claude-mock\nreal question"}]}}"#)
        #expect(answer.status == 200)
        #expect(answer.json?["negotiated_model"] == .string("claude-mock"))
        let forwarded = mock.calls.last?.body["messages"]?.arrayValue?.last?["content"]?.arrayValue?.first?["text"]
        #expect(forwarded == .string("real question"), "sent to Anthropic as a text block, directive stripped")
        let bad = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"@@tokenhub max_budget_usd=lots\nq"}]}}"#)
        #expect(bad.status == 400)
        #expect(bad.json?["error"]?["param"] == .string("@@tokenhub max_budget_usd"))
        // A strict pin by directive, and in TokenHub's envelope: an unknown model is a 404 naming it.
        let pinned = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"@@tokenhub model=gpt-4-typo model_strict=true\nq"}]}}"#)
        #expect(pinned.status == 404)
        #expect(pinned.json?["error"]?["code"] == .string("model_not_found"))
        #expect(pinned.json?["error"]?["message"]?.stringValue?.contains("gpt-4-typo") == true)
        let enveloped = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"q"}],"model_hint":"gpt-4-typo","model_strict":true}}"#)
        #expect(enveloped.status == 404)
        await server.stopped()
    }

    @Test("output_schema is checked against the reply")
    func outputSchema() async throws {
        let mock = try await MockUpstream()
        mock.script("gpt-mock", [.text(#"{"name":"tokenhub","stars":5}"#), .text(#"{"name":"tokenhub"}"#)])
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let schema = #"{"type":"object","required":["name","stars"],"properties":{"name":{"type":"string"},"stars":{"type":"integer"}}}"#
        let body = #"{"request":{"model_hint":"gpt-mock","messages":[{"role":"user","content":"json please"}],"output_schema":"# + schema + "}}"
        let valid = try await client.post("/v1/chat", body: body)
        #expect(valid.json?["output_schema_valid"] == .bool(true))
        let invalid = try await client.post("/v1/chat", body: body)
        #expect(invalid.json?["output_schema_valid"] == .bool(false))
        #expect(invalid.json?["output_schema_error"] == .string("$.stars: required"))
        await server.stopped()
    }

    @Test("the per-IP rate limit answers 429 with Retry-After")
    func rateLimit() async throws {
        let mock = try await MockUpstream()
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock, extra: "  rate_limit: {enabled: true, requests_per_second: 0.5, burst: 2}"))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let body = #"{"model":"gpt-mock","messages":[{"role":"user","content":"x"}]}"#
        #expect(try await client.post("/v1/chat/completions", body: body).status == 200)
        #expect(try await client.post("/v1/chat/completions", body: body).status == 200)
        let limited = try await client.post("/v1/chat/completions", body: body)
        #expect(limited.status == 429)
        #expect(limited.header("Retry-After") == "2")
        #expect(limited.json?["error"]?["code"] == .string("rate_limited"))
        #expect(try await client.get("/healthz").status == 200, "health checks are not rate limited")
        await server.stopped()
    }

    @Test("the official openai Python package works against tokenhub, streaming included")
    func openAIPythonClient() async throws {
        let mock = try await MockUpstream()
        mock.script("gpt-mock", [.text("hi python"), .stream(["py", "thon ", "stream"])])
        let server = try await RunningTokenhub.start(configPath: try Self.config(mock))
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Python/openai_client.py").path
        let result = try await Subprocess.running("/usr/bin/env", ["python3", script, server.baseURL, "gpt-mock"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8))
        #expect(json["content"] == .string("hi python"))
        #expect(json["model"] == .string("gpt-mock"))
        #expect(json["total_tokens"] == .number(30))
        #expect(json["stream"] == .string("python stream"))
        #expect(json["error"]?["type"] == .string("BadRequestError"))
        #expect(json["error"]?["message"]?.stringValue?.contains("messages: expected a non-empty array") == true)
        #expect(json["strict"]?["type"] == .string("NotFoundError"), "\(json)")
        #expect(json["strict"]?["message"]?.stringValue?.contains(#"model "no-such-model" is not registered"#) == true, "\(json)")
        #expect(json["lenient_model"] == .string("gpt-mock"), "without model_strict an unknown model is routed")
        await server.stopped()
    }
}
