import TemporalKit
import TokenHubCore

/// The seed's OrchestrationWorkflow: planning, adversarial (plan → critique → refine per
/// round), vote (voters in parallel, then a judge) and refine (answer, then improvements).
/// Every model call is a child ChatWorkflow; the costs of all steps add up in the decision;
/// then `LogResultActivity` records the plan once.
public struct OrchestrationWorkflow: WorkflowDefinition {
    /// The registered type name.
    public static let typeName = "OrchestrationWorkflow"
    static let logStep = "log-result"

    /// Creates the definition.
    public init() {}

    public var name: String { Self.typeName }

    public func plan(input: JSONValue, results: StepResults, context: WorkflowContext) throws(WorkflowPlanError) -> WorkflowPlan {
        let orchestration: OrchestrationInput
        do {
            orchestration = try OrchestrationInput(json: input)
        } catch {
            throw WorkflowPlanError(error.message)
        }
        var script = OrchestrationScript(input: orchestration, results: results, parentID: context.workflowID)
        let outcome: Result<JSONValue, FailedStep>?
        switch orchestration.directive.mode {
        case "adversarial": outcome = script.adversarial()
        case "vote": outcome = script.vote()
        case "refine": outcome = script.refine()
        default: outcome = script.planning()
        }
        guard let outcome else { return script.plan }
        let output: ChatOutput
        switch outcome {
        case .success(let response):
            output = ChatOutput(decision: script.decision(), response: response, latencyMs: 0)
        case .failure(let failed):
            var failedOutput = failed.output
            failedOutput.decision.estimatedCostUSD = script.totalCost
            output = failedOutput
        }
        var plan = script.plan
        let log = LogResult(requestID: orchestration.requestID, apiKeyID: orchestration.apiKeyID, kind: "plan",
                            mode: orchestration.directive.mode, output: output, dispatcher: "temporal",
                            traceparent: orchestration.traceparent)
        plan.add(.activity(Self.logStep, type: Activities.logResult, input: log.json, options: Activities.logOptions))
        guard results[Self.logStep] != nil else { return plan }
        plan.completion = .complete(output.json)
        return plan
    }
}

/// A step that answered with an error; it ends the orchestration with that output.
struct FailedStep: Error {
    var output: ChatOutput
}

/// One orchestration replayed over its step results. Each mode method returns nil while a
/// step it needs has no result yet, else the response or the failed step's output.
struct OrchestrationScript {
    let input: OrchestrationInput
    let results: StepResults
    let parentID: String
    private(set) var plan = WorkflowPlan()
    private(set) var totalCost = 0.0
    private var primaryModel = "", primaryProvider = ""

    init(input: OrchestrationInput, results: StepResults, parentID: String) {
        self.input = input
        self.results = results
        self.parentID = parentID
    }

    var task: String { OrchestrationPrompts.task(of: input.request) }

    func decision() -> Decision {
        Decision(modelID: primaryModel, providerID: primaryProvider, estimatedCostUSD: totalCost, reason: "orchestrated-\(input.directive.mode)")
    }

    mutating func planning() -> Result<JSONValue, FailedStep>? {
        guard let plan = primary("plan", input.request.messages, mode: "planning") else { return nil }
        return plan.map { .object(["plan": .string($0)]) }
    }

    mutating func adversarial() -> Result<JSONValue, FailedStep>? {
        guard let first = primary("plan", input.request.messages, mode: "planning") else { return nil }
        guard case .success(let initial) = first else { return first.map { _ in .null } }
        var plan = initial
        var critique = ""
        for round in 1...OrchestrationPrompts.adversarialRounds(input.directive) {
            guard let reviewed = review("critique-\(round)", OrchestrationPrompts.critique(task: task, plan: plan)) else { return nil }
            switch reviewed {
            case .success(let text): critique = text
            case .failure(let failed): return .failure(failed)
            }
            let prompt = OrchestrationPrompts.refinePlan(task: task, plan: plan, critique: critique)
            guard let refined = primary("refine-\(round)", [OrchestrationPrompts.user(prompt)], mode: "planning") else { return nil }
            switch refined {
            case .success(let text): plan = text
            case .failure(let failed): return .failure(failed)
            }
        }
        return .success(.object(["initial_plan": .string(initial), "critique": .string(critique), "refined_plan": .string(plan)]))
    }

    mutating func vote() -> Result<JSONValue, FailedStep>? {
        let count = OrchestrationPrompts.voters(input.directive)
        // Every voter starts in the same workflow task, so they run in parallel.
        var ballots: [ChatOutput?] = []
        for index in 1...count {
            ballots.append(step("voter-\(index)", input.request.messages, hint: input.directive.primaryModelID,
                                minWeight: input.directive.primaryMinWeight, mode: "normal"))
        }
        let voters = ballots.compactMap { $0 }
        guard voters.count == count else { return nil }
        if let failed = voters.first(where: { !$0.error.isEmpty }) { return .failure(FailedStep(output: failed)) }
        (primaryModel, primaryProvider) = (voters[0].decision.modelID, voters[0].decision.providerID)
        let contents = voters.map { OrchestrationPrompts.content(of: $0.response) }
        guard let judged = review("judge", OrchestrationPrompts.judge(task: task, answers: contents)) else { return nil }
        let verdict: String
        switch judged {
        case .success(let text): verdict = text
        case .failure(let failed): return .failure(failed)
        }
        let selected = OrchestrationPrompts.selectedIndex(verdict: verdict, count: voters.count)
        let responses: [JSONValue] = voters.enumerated().map { index, output in
            .object(["model": .string(output.decision.modelID), "content": .string(contents[index]), "selected": .bool(index == selected)])
        }
        return .success(.object(["responses": .array(responses), "selected": .number(Double(selected)), "judge": .string(verdict)]))
    }

    mutating func refine() -> Result<JSONValue, FailedStep>? {
        let rounds = OrchestrationPrompts.refinements(input.directive)
        guard let first = primary("answer", input.request.messages, mode: "normal") else { return nil }
        guard case .success(var answer) = first else { return first.map { _ in .null } }
        for round in 1...rounds {
            let prompt = OrchestrationPrompts.improve(task: task, answer: answer)
            guard let improved = primary("improve-\(round)", [OrchestrationPrompts.user(prompt)], mode: "normal") else { return nil }
            switch improved {
            case .success(let text): answer = text
            case .failure(let failed): return .failure(failed)
            }
        }
        return .success(.object(["refined_response": .string(answer), "iterations": .number(Double(rounds)), "model": .string(primaryModel)]))
    }

    // MARK: Steps

    private mutating func primary(_ name: String, _ messages: [JSONValue], mode: String) -> Result<String, FailedStep>? {
        guard let output = step(name, messages, hint: input.directive.primaryModelID, minWeight: input.directive.primaryMinWeight, mode: mode) else { return nil }
        guard output.error.isEmpty else { return .failure(FailedStep(output: output)) }
        if primaryModel.isEmpty { (primaryModel, primaryProvider) = (output.decision.modelID, output.decision.providerID) }
        return .success(OrchestrationPrompts.content(of: output.response))
    }

    private mutating func review(_ name: String, _ prompt: String) -> Result<String, FailedStep>? {
        guard let output = step(name, [OrchestrationPrompts.user(prompt)], hint: input.directive.reviewModelID,
                                minWeight: input.directive.reviewMinWeight, mode: "high_confidence") else { return nil }
        guard output.error.isEmpty else { return .failure(FailedStep(output: output)) }
        return .success(OrchestrationPrompts.content(of: output.response))
    }

    /// Adds the child ChatWorkflow for one model call; its output once it has one.
    private mutating func step(_ name: String, _ messages: [JSONValue], hint: String, minWeight: Int, mode: String) -> ChatOutput? {
        var request = input.request
        request.messages = messages
        request.modelHint = hint
        request.stream = false
        let policy = Policy(mode: mode, maxBudgetUSD: Policy().maxBudgetUSD, maxLatencyMs: Policy().maxLatencyMs, minWeight: minWeight)
        let chat = ChatInput(requestID: "\(input.requestID)-\(name)", apiKeyID: input.apiKeyID, request: request, policy: policy,
                             traceparent: input.traceparent)
        let childID = "\(parentID)/\(name)"
        plan.add(.child(childID, type: ChatWorkflow.typeName, input: chat.json))
        guard let result = results[childID] else { return nil }
        let output = Activities.chatOutput(from: result)
        totalCost += output.decision.estimatedCostUSD
        return output
    }
}
