import Foundation
import Testing
import TestSupport
import TokenHubCore

/// `tokenhub serve` as a real process on a real socket.
@Suite("tokenhub serve, end to end", .serialized)
struct ServeTests {
    let chat = #"{"request":{"messages":[{"role":"user","content":"hello from the test"}]}}"#

    func content(_ answer: HTTPTestClient.Answer) -> String? {
        answer.json?["response"]?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
    }

    @Test("a dispatch plugin written in C serves POST /v1/chat")
    func cPluginServes() async throws {
        let relay = try await CPluginBuilder.build("relay_dispatch")
        let config = try writeConfig("""
        dispatch:
          chain:
            - \(relay)
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        let client = HTTPTestClient(baseURL: server.baseURL)

        let answer = try await client.post("/v1/chat", body: chat)
        #expect(answer.status == 200)
        #expect(answer.json?["dispatcher"] == .string("c-relay"))
        #expect(answer.json?["negotiated_model"] == .string("echo-1"))
        #expect(content(answer) == "hello from the test")
        let requestID = try #require(answer.json?["request_id"]?.stringValue)
        #expect(answer.header("X-Request-ID") == requestID)
        #expect(requestID.hasPrefix("req-"))

        let health = try await client.get("/healthz")
        #expect(health.status == 200)
        #expect(health.json?["plugins"]?.arrayValue?.first?["name"] == .string("c-relay"))
        #expect(health.json?["plugins"]?.arrayValue?.first?["abi"] == .string("1.3"))
        #expect(server.log.contains("relay dispatcher started"), "the plugin's host_log reached the host log")
        #expect(server.log.contains("executor: Swift concurrency runs on NIO's"), "the event-loop executor hook installed")
        #expect(await server.stopped() == 0, "SIGTERM stops the server gracefully")
    }

    @Test("an unavailable dispatcher passes the request to DirectDispatch")
    func chainFallsThrough() async throws {
        let relay = try await CPluginBuilder.build("relay_dispatch")
        let config = try writeConfig("""
        dispatch:
          chain:
            - plugin: \(relay)
              name: declining
              config: {unavailable: true}
            - DirectDispatch
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        let answer = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat", body: chat)
        #expect(answer.status == 200)
        #expect(answer.json?["dispatcher"] == .string("direct"))
        #expect(content(answer) == "hello from the test")
        await server.stopped()
    }

    @Test("with no config file, the embedded default serves the echo demo model")
    func embeddedDefault() async throws {
        let emptyDirectory = try TestPaths.makeTemporaryDirectory()
        let server = try await RunningTokenhub.start(configPath: nil, environment: ["TOKENHUB_CONFIG": ""], currentDirectory: emptyDirectory)
        #expect(server.log.contains("embedded default config"))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let answer = try await client.post("/v1/chat", body: chat)
        #expect(answer.status == 200)
        #expect(answer.json?["dispatcher"] == .string("direct"))
        #expect(answer.json?["routing_reason"] == .string("routed-weight-5"))
        let health = try await client.get("/healthz")
        #expect(health.json?["models"] == .number(1))
        await server.stopped()
    }

    @Test("/healthz is 503 when no model is usable")
    func healthWithoutModels() async throws {
        let config = try writeConfig("dispatch:\n  chain: [DirectDispatch]\n")
        let server = try await RunningTokenhub.start(configPath: config)
        let health = try await HTTPTestClient(baseURL: server.baseURL).get("/healthz")
        #expect(health.status == 503)
        #expect(health.json?["models"] == .number(0))
        let chat = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat", body: chat)
        #expect(chat.status == 503)
        #expect(String(decoding: chat.body, as: UTF8.self).contains("no models configured"))
        await server.stopped()
    }

    @Test("bad requests get 4xx naming the field, and the server keeps serving")
    func badRequests() async throws {
        let config = try writeConfig("""
        server:
          body_limit_bytes: 2048
        dispatch:
          chain: [DirectDispatch]
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let cases: [(String, Int, String)] = [
            ("{not json", 400, "invalid_json"),
            ("", 400, "invalid_json"),
            ("[1,2]", 400, "body"),
            (#"{"request":{}}"#, 400, "request.messages"),
            (#"{"request":{"messages":[]}}"#, 400, "request.messages"),
            (#"{"request":{"messages":"hi"}}"#, 400, "request.messages"),
            (#"{"request":{"messages":[{"role":"wizard","content":"x"}]}}"#, 400, "request.messages[0].role"),
            (#"{"request":{"messages":[{"role":"user","content":"x"}]},"policy":{"mode":"fastest"}}"#, 400, "policy.mode"),
            (#"{"request":{"messages":[{"role":"user","content":"x"}]},"policy":{"max_budget_usd":-1}}"#, 400, "policy.max_budget_usd"),
            (#"{"request":{"messages":[{"role":"user","content":"x"}]},"policy":{"max_latency_ms":1.5}}"#, 400, "policy.max_latency_ms"),
            (#"{"request":{"messages":[{"role":"user","content":"x"}]},"policy":{"min_weight":1e308}}"#, 400, "policy.min_weight"),
            (#"{"request":{"messages":[{"role":"user","content":"x"}],"strem":true}}"#, 400, "request.strem"),
        ]
        for (body, status, mention) in cases {
            let answer = try await client.post("/v1/chat", body: body)
            #expect(answer.status == status, "\(body)")
            let error = String(decoding: answer.body, as: UTF8.self)
            #expect(error.contains(mention), "\(body) → \(error)")
        }
        let invalidUTF8 = try await client.post("/v1/chat", bytes: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D])
        #expect(invalidUTF8.status == 400)
        let oversized = try await client.post("/v1/chat", body: String(repeating: " ", count: 4096) + chat)
        #expect(oversized.status == 413)
        #expect(String(decoding: oversized.body, as: UTF8.self).contains("2048"))

        let tooCostly = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}],"model_hint":"echo-1","estimated_input_tokens":100000}}"#)
        #expect(tooCostly.status == 503, "no eligible model is a 503 with the reasons")
        #expect(String(decoding: tooCostly.body, as: UTF8.self).contains("context"))

        let good = try await client.post("/v1/chat", body: chat)
        #expect(good.status == 200)
        await server.stopped()
    }
}
