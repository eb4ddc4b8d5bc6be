import TokenHubCore

/// Multi-step orchestrations over `routeAndSend`: planning, adversarial (plan → critique →
/// refine), vote (parallel voters and a judge) and refine (answer, then improvements). Every
/// step's cost adds up in the returned decision.
extension Engine {
    /// The orchestration modes `/v1/plan` accepts.
    public static let orchestrationModes = ["planning", "adversarial", "vote", "refine"]

    /// Runs one orchestration; a failed step ends it with that step's error.
    public func orchestrate(_ input: OrchestrationInput) async -> ChatOutput {
        let started = ContinuousClock.now
        var run = OrchestrationRun(engine: self, input: input)
        let result: Result<JSONValue, ChatOutputError>
        switch input.directive.mode {
        case "adversarial": result = await run.adversarial()
        case "vote": result = await run.vote()
        case "refine": result = await run.refine()
        default: result = await run.planning()
        }
        let elapsed = Int(Engine.milliseconds(.now - started))
        switch result {
        case .success(let response):
            return ChatOutput(decision: run.decision(), response: response, latencyMs: elapsed)
        case .failure(let failure):
            var output = failure.output
            output.decision.estimatedCostUSD = run.totalCost
            output.latencyMs = elapsed
            return output
        }
    }
}

/// The state of one orchestration: the steps taken and what they cost.
struct OrchestrationRun {
    let engine: Engine
    let input: OrchestrationInput
    private(set) var totalCost = 0.0
    private var primaryModel = ""
    private var primaryProvider = ""

    init(engine: Engine, input: OrchestrationInput) {
        self.engine = engine
        self.input = input
    }

    func decision() -> Decision {
        Decision(modelID: primaryModel, providerID: primaryProvider, estimatedCostUSD: totalCost, reason: "orchestrated-\(input.directive.mode)")
    }

    var task: String {
        OrchestrationPrompts.task(of: input.request)
    }

    mutating func planning() async -> Result<JSONValue, ChatOutputError> {
        await primary(input.request.messages, mode: "planning").map { .object(["plan": .string($0)]) }
    }

    mutating func adversarial() async -> Result<JSONValue, ChatOutputError> {
        let rounds = OrchestrationPrompts.adversarialRounds(input.directive)
        guard case .success(let initial) = await primary(input.request.messages, mode: "planning") else {
            return .failure(lastFailure!)
        }
        var plan = initial
        var critique = ""
        for _ in 0..<rounds {
            switch await review(OrchestrationPrompts.critique(task: task, plan: plan)) {
            case .success(let text): critique = text
            case .failure(let failure): return .failure(failure)
            }
            let refinePrompt = OrchestrationPrompts.refinePlan(task: task, plan: plan, critique: critique)
            switch await primary([user(refinePrompt)], mode: "planning") {
            case .success(let text): plan = text
            case .failure(let failure): return .failure(failure)
            }
        }
        return .success(.object(["initial_plan": .string(initial), "critique": .string(critique), "refined_plan": .string(plan)]))
    }

    mutating func vote() async -> Result<JSONValue, ChatOutputError> {
        let voters = OrchestrationPrompts.voters(input.directive)
        let candidates = engine.plan(input.request, policy: policy(minWeight: input.directive.primaryMinWeight, mode: "normal")).candidates
        let request = input.request
        let requestID = input.requestID
        let basePolicy = policy(minWeight: input.directive.primaryMinWeight, mode: "normal")
        let engine = self.engine
        let pinned = input.directive.primaryModelID
        let deadline = input.deadlineUnixMs
        let traceparent = input.traceparent
        let outputs = await withTaskGroup(of: (Int, ChatOutput).self) { group in
            for index in 0..<voters {
                var voterRequest = request
                // Spread voters over the eligible models unless one is pinned.
                voterRequest.modelHint = pinned.isEmpty ? (candidates.isEmpty ? "" : candidates[index % candidates.count].model.id) : pinned
                let voterInput = ChatInput(requestID: "\(requestID)-voter-\(index)", request: voterRequest, policy: basePolicy,
                                           deadlineUnixMs: deadline, traceparent: traceparent)
                group.addTask { (index, await engine.routeAndSend(voterInput)) }
            }
            var collected: [(Int, ChatOutput)] = []
            for await output in group { collected.append(output) }
            return collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for output in outputs {
            totalCost += output.decision.estimatedCostUSD
            if !output.error.isEmpty { return .failure(ChatOutputError(output: output)) }
        }
        primaryModel = outputs.first?.decision.modelID ?? ""
        primaryProvider = outputs.first?.decision.providerID ?? ""
        let contents = outputs.map { Self.content($0.response) }
        let judgePrompt = OrchestrationPrompts.judge(task: task, answers: contents)
        let verdict: String
        switch await review(judgePrompt) {
        case .success(let text): verdict = text
        case .failure(let failure): return .failure(failure)
        }
        let selected = OrchestrationPrompts.selectedIndex(verdict: verdict, count: outputs.count)
        let responses: [JSONValue] = outputs.enumerated().map { index, output in
            .object(["model": .string(output.decision.modelID), "content": .string(contents[index]), "selected": .bool(index == selected)])
        }
        return .success(.object(["responses": .array(responses), "selected": .number(Double(selected)), "judge": .string(verdict)]))
    }

    mutating func refine() async -> Result<JSONValue, ChatOutputError> {
        let rounds = OrchestrationPrompts.refinements(input.directive)
        var answer: String
        switch await primary(input.request.messages, mode: "normal") {
        case .success(let text): answer = text
        case .failure(let failure): return .failure(failure)
        }
        for _ in 0..<rounds {
            switch await primary([user(OrchestrationPrompts.improve(task: task, answer: answer))], mode: "normal") {
            case .success(let text): answer = text
            case .failure(let failure): return .failure(failure)
            }
        }
        return .success(.object(["refined_response": .string(answer), "iterations": .number(Double(rounds)), "model": .string(primaryModel)]))
    }

    // MARK: Steps

    private var lastFailure: ChatOutputError?

    private mutating func primary(_ messages: [JSONValue], mode: String) async -> Result<String, ChatOutputError> {
        let result = await step(messages, hint: input.directive.primaryModelID, minWeight: input.directive.primaryMinWeight, mode: mode)
        if case .success = result, primaryModel.isEmpty { (primaryModel, primaryProvider) = (lastModel, lastProvider) }
        return result
    }

    private mutating func review(_ prompt: String) async -> Result<String, ChatOutputError> {
        await step([user(prompt)], hint: input.directive.reviewModelID, minWeight: input.directive.reviewMinWeight, mode: "high_confidence")
    }

    private var lastModel = "", lastProvider = ""

    private mutating func step(_ messages: [JSONValue], hint: String, minWeight: Int, mode: String) async -> Result<String, ChatOutputError> {
        var request = input.request
        request.messages = messages
        request.modelHint = hint
        let output = await engine.routeAndSend(ChatInput(requestID: input.requestID, apiKeyID: input.apiKeyID, request: request,
                                                         policy: policy(minWeight: minWeight, mode: mode),
                                                         deadlineUnixMs: input.deadlineUnixMs, traceparent: input.traceparent))
        totalCost += output.decision.estimatedCostUSD
        guard output.error.isEmpty else {
            lastFailure = ChatOutputError(output: output)
            return .failure(lastFailure!)
        }
        (lastModel, lastProvider) = (output.decision.modelID, output.decision.providerID)
        return .success(Self.content(output.response))
    }

    private func policy(minWeight: Int, mode: String) -> Policy {
        Policy(mode: mode, maxBudgetUSD: Policy().maxBudgetUSD, maxLatencyMs: Policy().maxLatencyMs, minWeight: minWeight)
    }

    private func user(_ text: String) -> JSONValue { OrchestrationPrompts.user(text) }

    static func content(_ response: JSONValue) -> String { OrchestrationPrompts.content(of: response) }
}
