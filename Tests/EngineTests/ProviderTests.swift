import Engine
import Foundation
import Testing
import TestSupport
import TokenHubCore

/// The engine against a scripted provider on a real socket.
@Suite("Engine over real HTTP providers")
struct ProviderTests {
    func user(_ text: String) -> ChatRequest {
        ChatRequest(messages: [.object(["role": .string("user"), "content": .string(text)])])
    }

    func engine(_ mock: MockUpstream, models: [ModelSpec], anthropic: Bool = false) -> Engine {
        let provider = anthropic
            ? ProviderSpec(id: "up", type: .anthropic, baseURLs: [mock.anthropicBaseURL], apiKey: "sk-ant-secret")
            : ProviderSpec(id: "up", type: .openai, baseURLs: [mock.openAIBaseURL], apiKey: "sk-secret")
        return Engine(providers: [provider], models: models)
    }

    func model(_ id: String, weight: Int = 5, context: Int = 8000, price: Double = 0.001) -> ModelSpec {
        ModelSpec(id: id, providerID: "up", weight: weight, maxContextTokens: context, inputPricePer1K: price, outputPricePer1K: price)
    }

    @Test("an OpenAI-compatible call, with the key sent and cost from reported usage")
    func openAICall() async throws {
        let mock = try await MockUpstream()
        let engine = engine(mock, models: [model("gpt-x", price: 1)])
        defer { Task { await engine.shutdown() } }
        let output = await engine.routeAndSend(ChatInput(requestID: "r1", request: user("hi"), policy: Policy(maxBudgetUSD: 10)))
        #expect(output.error == "")
        #expect(output.response["choices"]?.arrayValue?.first?["message"]?["content"] == .string("mock:gpt-x:hi"))
        #expect(output.decision.estimatedCostUSD == 0.03, "10 + 20 tokens at $1 per 1k")
        #expect(mock.calls.first?.headers["authorization"] == "Bearer sk-secret")
    }

    @Test("context overflow escalates to the larger model")
    func contextOverflow() async throws {
        let mock = try await MockUpstream()
        mock.script("small", [.contextOverflow])
        let engine = engine(mock, models: [model("small", weight: 9, context: 8000), model("large", weight: 3, context: 200_000)])
        let output = await engine.routeAndSend(ChatInput(requestID: "r2", request: user("long"), policy: Policy(mode: "high_confidence")))
        #expect(output.decision.modelID == "large")
        #expect(output.decision.reason == "escalated-context-overflow")
        #expect(mock.callCount("small") == 1)
        await engine.shutdown()
    }

    @Test("rate limited moves to the next model; transient retries the same one")
    func rateLimitedAndTransient() async throws {
        let mock = try await MockUpstream()
        mock.script("first", [.rateLimited(retryAfterSeconds: 30)])
        mock.script("second", [.status(503, body: "overloaded"), .status(502, body: "bad gateway")])
        let engine = engine(mock, models: [model("first", weight: 9), model("second", weight: 8)])
        let output = await engine.routeAndSend(ChatInput(requestID: "r3", request: user("x"), policy: Policy(mode: "high_confidence")))
        #expect(output.error == "")
        #expect(output.decision.modelID == "second")
        #expect(output.decision.reason == "retried-transient")
        #expect(mock.callCount("first") == 1)
        #expect(mock.callCount("second") == 3)
        await engine.shutdown()
    }

    @Test("a lone rate-limited model waits out a short Retry-After")
    func shortRetryAfter() async throws {
        let mock = try await MockUpstream()
        mock.script("only", [.rateLimited(retryAfterSeconds: 1)])
        let engine = engine(mock, models: [model("only")])
        let started = ContinuousClock.now
        let output = await engine.routeAndSend(ChatInput(requestID: "r4", request: user("x")))
        #expect(output.error == "")
        #expect(output.decision.reason == "retried-rate-limited")
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        #expect(mock.callCount("only") == 2)
        await engine.shutdown()
    }

    @Test("fatal errors fail over, at most 5 attempts, and the answer names the class")
    func fatalAndAttemptLimit() async throws {
        let mock = try await MockUpstream()
        let ids = (1...7).map { "m\($0)" }
        for id in ids { mock.script(id, [.status(401, body: "bad key")]) }
        let engine = engine(mock, models: ids.map { model($0) })
        let output = await engine.routeAndSend(ChatInput(requestID: "r5", request: user("x")))
        #expect(output.errorClass == .fatal)
        #expect(output.error.contains("401"))
        #expect(output.error.contains("after 5 attempt(s)"))
        #expect(mock.calls.count == 5)
        #expect(!output.error.contains("sk-secret"), "the key never appears in errors")
        await engine.shutdown()
    }

    @Test("the policy deadline bounds a slow provider")
    func deadline() async throws {
        let mock = try await MockUpstream()
        mock.script("slow", [.text("late", delayMs: 3000)])
        let engine = engine(mock, models: [model("slow")])
        let started = ContinuousClock.now
        let output = await engine.routeAndSend(ChatInput(requestID: "r6", request: user("x"), policy: Policy(maxLatencyMs: 300)))
        // The transient error is the proof: the mock answers "late" successfully after 3 s.
        // The wall-clock bound only says "not hung": the test process shares its threads with
        // every suite running in parallel, some of which wait on subprocesses.
        #expect(output.errorClass == .transient)
        #expect(output.response == .null, "the late answer was not used")
        #expect(ContinuousClock.now - started < .seconds(10))
        await engine.shutdown()
    }

    @Test("Anthropic: request translated (system, tools), answer translated back with usage")
    func anthropic() async throws {
        let mock = try await MockUpstream()
        let engine = engine(mock, models: [model("claude-x")], anthropic: true)
        var request = ChatRequest(messages: [
            .object(["role": .string("system"), "content": .string("be brief")]),
            .object(["role": .string("user"), "content": .string("hello")]),
        ])
        request.parameters = ["max_tokens": .number(50), "tools": .array([.object(["type": .string("function"), "function": .object([
            "name": .string("lookup"), "description": .string("find"), "parameters": .object(["type": .string("object")]),
        ])])])]
        let output = await engine.routeAndSend(ChatInput(requestID: "r7", request: request))
        #expect(output.error == "")
        #expect(output.response["choices"]?.arrayValue?.first?["message"]?["content"] == .string("mock:claude-x:hello"))
        #expect(output.response["usage"]?["total_tokens"] == .number(33))
        let sent = try #require(mock.calls.first)
        #expect(sent.path == "/v1/messages")
        #expect(sent.headers["x-api-key"] == "sk-ant-secret")
        #expect(sent.headers["anthropic-version"] == "2023-06-01")
        #expect(sent.body["system"] == .string("be brief"))
        #expect(sent.body["max_tokens"] == .number(50))
        #expect(sent.body["tools"]?.arrayValue?.first?["input_schema"]?["type"] == .string("object"))
        await engine.shutdown()
    }

    @Test("streams relay chunks from OpenAI and translated Anthropic streams")
    func streams() async throws {
        let mock = try await MockUpstream()
        mock.script("s", [.stream(["Hel", "lo"])])
        let openAI = engine(mock, models: [model("s")])
        guard case .success(let opened) = await openAI.routeAndStream(ChatInput(requestID: "r8", request: user("x"))) else {
            Issue.record("stream did not open")
            return
        }
        #expect(opened.decision.modelID == "s")
        #expect(opened.attempts.map(\.modelID) == ["s"] && opened.attempts.first?.errorClass == "")
        var text = ""
        for try await chunk in opened.chunks { text += chunk["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue ?? "" }
        #expect(text == "Hello")
        await openAI.shutdown()

        mock.script("c", [.stream(["Bon", "jour"])])
        let anthropic = engine(mock, models: [model("c")], anthropic: true)
        guard case .success(let translatedStream) = await anthropic.routeAndStream(ChatInput(requestID: "r9", request: user("x"))) else {
            Issue.record("anthropic stream did not open")
            return
        }
        var pieces: [String] = []
        var finish: String?
        for try await chunk in translatedStream.chunks {
            let choice = chunk["choices"]?.arrayValue?.first
            if let piece = choice?["delta"]?["content"]?.stringValue { pieces.append(piece) }
            if let reason = choice?["finish_reason"]?.stringValue { finish = reason }
        }
        #expect(pieces.joined() == "Bonjour")
        #expect(finish == "stop")
        await anthropic.shutdown()
    }

    @Test("a failing stream opening fails over before any byte reaches the client")
    func streamFailover() async throws {
        let mock = try await MockUpstream()
        mock.script("bad", [.status(401, body: "no")])
        mock.script("good", [.stream(["ok"])])
        let engine = engine(mock, models: [model("bad", weight: 9), model("good", weight: 1)])
        guard case .success(let opened) = await engine.routeAndStream(ChatInput(requestID: "r10", request: user("x"), policy: Policy(mode: "high_confidence"))) else {
            Issue.record("no stream")
            return
        }
        #expect(opened.decision.modelID == "good")
        #expect(opened.decision.reason == "failover-fatal")
        #expect(opened.attempts.map(\.modelID) == ["bad", "good"], "both calls it took to open the stream")
        #expect(opened.attempts.map(\.errorClass) == ["fatal", ""])
        await engine.shutdown()
    }

    @Test("five failures take a provider down and out of routing")
    func healthTakesProviderDown() async throws {
        let mock = try await MockUpstream()
        mock.script("flaky", Array(repeating: .status(401, body: "no"), count: 5))
        let engine = engine(mock, models: [model("flaky")])
        for index in 0..<5 { _ = await engine.routeAndSend(ChatInput(requestID: "h\(index)", request: user("x"))) }
        #expect(engine.health.state(of: "up") == .down)
        let output = await engine.routeAndSend(ChatInput(requestID: "h5", request: user("x")))
        #expect(output.errorClass == .noEligibleModel)
        #expect(output.error.contains("provider down"))
        #expect(mock.calls.count == 5)
        await engine.shutdown()
    }

    @Test("orchestration: vote runs voters in parallel and a judge; costs add up")
    func vote() async throws {
        let mock = try await MockUpstream()
        mock.script("judge", [.text("2")])
        let engine = engine(mock, models: [model("voter", weight: 3, price: 0.01), model("judge", weight: 9, price: 0.01)])
        let input = OrchestrationInput(requestID: "p1", request: user("pick"),
                                       directive: OrchestrationDirective(mode: "vote", primaryModelID: "voter", reviewModelID: "judge"))
        let output = await engine.orchestrate(input)
        #expect(output.error == "")
        #expect(output.response["responses"]?.arrayValue?.count == 3)
        #expect(output.response["selected"] == .number(1))
        #expect(output.response["responses"]?.arrayValue?[1]["selected"] == .bool(true))
        #expect(abs(output.decision.estimatedCostUSD - 0.0012) < 1e-9, "4 calls of 30 tokens at $0.01 per 1k: \(output.decision.estimatedCostUSD)")
        #expect(mock.callCount("voter") == 3)
        await engine.shutdown()
    }

    @Test("orchestration: adversarial plans, critiques and refines")
    func adversarial() async throws {
        let mock = try await MockUpstream()
        mock.script("primary", [.text("plan v1"), .text("plan v2")])
        mock.script("critic", [.text("too vague")])
        let engine = engine(mock, models: [model("primary"), model("critic", weight: 9)])
        let output = await engine.orchestrate(OrchestrationInput(requestID: "p2", request: user("ship it"),
            directive: OrchestrationDirective(mode: "adversarial", primaryModelID: "primary", reviewModelID: "critic")))
        #expect(output.response["initial_plan"] == .string("plan v1"))
        #expect(output.response["critique"] == .string("too vague"))
        #expect(output.response["refined_plan"] == .string("plan v2"))
        #expect(output.decision.reason == "orchestrated-adversarial")
        await engine.shutdown()
    }
}

extension ProviderTests {
    @Test("vllm: several base URLs are used round robin")
    func vllmRoundRobin() async throws {
        let first = try await MockUpstream()
        let second = try await MockUpstream()
        let provider = ProviderSpec(id: "up", type: .vllm, baseURLs: [first.openAIBaseURL, second.openAIBaseURL])
        let engine = Engine(providers: [provider], models: [model("llama")])
        for index in 0..<4 {
            let output = await engine.routeAndSend(ChatInput(requestID: "v\(index)", request: user("x")))
            #expect(output.error == "")
        }
        #expect(first.calls.count == 2)
        #expect(second.calls.count == 2)
    }
}
