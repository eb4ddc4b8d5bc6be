import Engine
import Testing
import TokenHubCore

@Suite("Router: eligibility and scoring")
struct RouterTests {
    let providers = [ProviderSpec(id: "p", type: .echo)]
    let cheapSmall = ModelSpec(id: "cheap", providerID: "p", weight: 3, maxContextTokens: 8000, inputPricePer1K: 0.0001, outputPricePer1K: 0.0002)
    let strongPricey = ModelSpec(id: "strong", providerID: "p", weight: 9, maxContextTokens: 128_000, inputPricePer1K: 0.01, outputPricePer1K: 0.03)

    func request(_ text: String = "hello", hint: String = "", tokens: Int = 0) -> ChatRequest {
        ChatRequest(messages: [.object(["role": .string("user"), "content": .string(text)])], modelHint: hint, estimatedInputTokens: tokens)
    }

    @Test("cheap mode prefers the cheaper model, high_confidence the heavier one")
    func modesPickDifferently() {
        let models = [cheapSmall, strongPricey]
        let cheap = Router.plan(request: request(), policy: Policy(mode: "cheap"), providers: providers, models: models, health: [:])
        #expect(cheap.candidates.first?.model.id == "cheap")
        let confident = Router.plan(request: request(), policy: Policy(mode: "high_confidence"), providers: providers, models: models, health: [:])
        #expect(confident.candidates.first?.model.id == "strong")
        #expect(confident.candidates.first?.reason == "routed-weight-9")
    }

    @Test("an exact model hint pins the model")
    func hintPins() {
        let plan = Router.plan(request: request(hint: "cheap"), policy: Policy(mode: "high_confidence"), providers: providers,
                               models: [cheapSmall, strongPricey], health: [:])
        #expect(plan.candidates.map(\.model.id) == ["cheap"])
        #expect(plan.candidates.first?.reason == "routed-hint-exact")
    }

    @Test("a strict pin (model_strict) never routes elsewhere: an unknown or ineligible model leaves no candidate and names itself")
    func strictPin() {
        let models = [cheapSmall, strongPricey]
        var unknown = request(hint: "gpt-nonexistent")
        let lenient = Router.plan(request: unknown, policy: Policy(), providers: providers, models: models, health: [:])
        #expect(!lenient.candidates.isEmpty, "without model_strict an unknown hint is ignored")
        unknown.modelStrict = true
        let strict = Router.plan(request: unknown, policy: Policy(), providers: providers, models: models, health: [:])
        #expect(strict.candidates.isEmpty)
        #expect(strict.strictPin == "gpt-nonexistent")
        #expect(strict.skipped["gpt-nonexistent"] == "is not registered")
        var tooHeavy = request(hint: "cheap")
        tooHeavy.modelStrict = true
        let ineligible = Router.plan(request: tooHeavy, policy: Policy(minWeight: 5), providers: providers, models: models, health: [:])
        #expect(ineligible.candidates.isEmpty)
        #expect(ineligible.skipped["cheap"]?.hasPrefix("is not eligible: weight 3 below min_weight 5") == true, "\(ineligible.skipped)")
        var known = request(hint: "strong")
        known.modelStrict = true
        #expect(Router.plan(request: known, policy: Policy(mode: "cheap"), providers: providers, models: models, health: [:])
            .candidates.map(\.model.id) == ["strong"])
    }

    @Test("ineligible models are skipped with a reason each")
    func ineligibility() {
        var disabled = cheapSmall
        disabled.id = "off"
        disabled.enabled = false
        let plan = Router.plan(request: request(tokens: 10_000), policy: Policy(maxBudgetUSD: 1.0, minWeight: 0), providers: providers,
                               models: [cheapSmall, strongPricey, disabled], health: [:])
        #expect(plan.skipped["cheap"]?.contains("context") == true)
        #expect(plan.skipped["off"] == "model disabled")
        #expect(plan.candidates.map(\.model.id) == ["strong"])

        let tooPoor = Router.plan(request: request(), policy: Policy(maxBudgetUSD: 0.000001), providers: providers, models: [strongPricey], health: [:])
        #expect(tooPoor.candidates.isEmpty)
        #expect(tooPoor.skipped["strong"]?.contains("over budget") == true)

        let tooWeak = Router.plan(request: request(), policy: Policy(minWeight: 5), providers: providers, models: [cheapSmall], health: [:])
        #expect(tooWeak.skipped["cheap"]?.contains("below min_weight") == true)

        let down = Router.plan(request: request(), policy: Policy(), providers: providers, models: [cheapSmall],
                               health: ["p": ProviderHealthView(isDown: true)])
        #expect(down.skipped["cheap"] == "provider down")
    }

    @Test("the token estimate is UTF-8 bytes / 4 unless given")
    func tokenEstimate() {
        #expect(TokenEstimate.inputTokens(request(String(repeating: "a", count: 400))) == 100)
        #expect(TokenEstimate.inputTokens(request("é", tokens: 77)) == 77)
    }

    @Test("the echo provider answers with the prompt")
    func echo() async {
        let engine = Engine(providers: providers, models: [cheapSmall])
        let output = await engine.routeAndSend(ChatInput(requestID: "r", request: request("ping")))
        #expect(output.error == "")
        #expect(output.decision.modelID == "cheap")
        let content = output.response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
        #expect(content == "ping")
    }

    @Test("no eligible model is an answer with the reasons, not a crash")
    func noEligibleModel() async {
        let engine = Engine(providers: providers, models: [])
        let output = await engine.routeAndSend(ChatInput(requestID: "r", request: request()))
        #expect(output.errorClass == .noEligibleModel)
        #expect(output.error.contains("no models configured"))
    }

    @Test("a provider with no latency sample scores the mean of the known ones, not the best possible")
    func neutralLatencyPrior() {
        let providers = [ProviderSpec(id: "known", type: .echo), ProviderSpec(id: "fresh", type: .echo), ProviderSpec(id: "slow", type: .echo)]
        let models = [ModelSpec(id: "k", providerID: "known", weight: 5), ModelSpec(id: "f", providerID: "fresh", weight: 5),
                      ModelSpec(id: "s", providerID: "slow", weight: 5)]
        let health = ["known": ProviderHealthView(latencyMs: 100), "slow": ProviderHealthView(latencyMs: 300)]
        let plan = Router.plan(request: request(), policy: Policy(mode: "normal"), providers: providers, models: models, health: health)
        // fresh scores like a 200 ms provider: after the 100 ms one, ahead of the 300 ms one.
        #expect(plan.candidates.map(\.model.id) == ["k", "f", "s"])
        // A provider that only failed (error rate 1, no latency) falls behind the others.
        let failing = health.merging(["fresh": ProviderHealthView(latencyMs: 0, errorRate: 1)]) { $1 }
        let after = Router.plan(request: request(), policy: Policy(mode: "normal"), providers: providers, models: models, health: failing)
        #expect(after.candidates.last?.model.id == "f")
    }
}
