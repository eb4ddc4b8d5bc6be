import TemporalKit
import Testing
import TokenHubCore
import TokenHubWorkflows

/// The workflows' plans as pure functions of input and results, without a server.
@Suite struct WorkflowPlanTests {
    let context = WorkflowContext(workflowID: "chat-r1", taskQueue: "q")
    let input = ChatInput(requestID: "r1", request: ChatRequest(messages: [.object(["role": .string("user"), "content": .string("hi")])])).json

    @Test func chatWorkflowCallsTheModelThenLogsThenCompletes() throws {
        let first = try ChatWorkflow().plan(input: input, results: StepResults(), context: context)
        #expect(first.steps.map(\.typeName) == ["ChatActivity"])
        #expect(first.completion == nil)

        let output = ChatOutput(decision: Decision(modelID: "m"), response: .string("answer"))
        let second = try ChatWorkflow().plan(input: input, results: StepResults(["chat": .completed(output.json)]), context: context)
        #expect(second.steps.map(\.typeName) == ["ChatActivity", "LogResultActivity"])
        let log = try LogResult(json: second.steps[1].input)
        #expect(log.requestID == "r1")
        #expect(log.dispatcher == "temporal")
        #expect(log.output.decision.modelID == "m")

        let done = try ChatWorkflow().plan(input: input, results: StepResults(["chat": .completed(output.json), "log-result": .completed(.null)]), context: context)
        #expect(done.completion == .complete(output.json))
    }

    @Test func aProviderErrorIsLoggedAndReturnedNotFailed() throws {
        let failed = ChatOutput(error: "upstream 500", errorClass: .fatal)
        let plan = try ChatWorkflow().plan(input: input, results: StepResults(["chat": .completed(failed.json), "log-result": .completed(.null)]), context: context)
        #expect(plan.completion == .complete(failed.json))
    }

    @Test func chatActivityRetriesOnlyWhenTheWorkerIsLost() throws {
        let plan = try ChatWorkflow().plan(input: input, results: StepResults(), context: context)
        guard case .activity(_, let options) = plan.steps[0].kind else {
            Issue.record("not an activity")
            return
        }
        #expect(options.heartbeat > .zero)
        #expect(options.maximumAttempts == 3)
        #expect(options.nonRetryableErrorTypes.contains(Activities.invalidInput))
    }

    @Test func badInputNamesTheField() {
        #expect(throws: WorkflowPlanError.self) {
            try ChatWorkflow().plan(input: .object(["request": .object([:])]), results: StepResults(), context: context)
        }
    }
}
