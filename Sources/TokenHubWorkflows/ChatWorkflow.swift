import TemporalKit
import TokenHubCore

/// The seed's ChatWorkflow: `ChatActivity` (route and send through the engine), then
/// `LogResultActivity` (request log, reward, TSDB points, event), then the ChatOutput.
/// Both run inside the workflow task first (see `Activities`), so a prompt answer completes
/// the whole workflow in the task that started it.
///
/// As a child of OrchestrationWorkflow it skips the log step: the parent logs the plan.
///
/// A provider error is not a workflow failure: ChatActivity returns it inside the
/// ChatOutput, the result is logged like any other, and the workflow completes with it.
public struct ChatWorkflow: WorkflowDefinition {
    /// The registered type name.
    public static let typeName = "ChatWorkflow"
    /// The step IDs, stable across versions (replay matches on them).
    static let chatStep = "chat"
    static let logStep = "log-result"

    /// Creates the definition.
    public init() {}

    public var name: String { Self.typeName }

    public func plan(input: JSONValue, results: StepResults, context: WorkflowContext) throws(WorkflowPlanError) -> WorkflowPlan {
        let chat: ChatInput
        do {
            chat = try ChatInput(json: input)
        } catch {
            throw WorkflowPlanError(error.message)
        }
        var plan = WorkflowPlan()
        plan.add(.activity(Self.chatStep, type: Activities.chat, input: input, options: Activities.chatOptions(chat.policy)))
        guard let chatResult = results[Self.chatStep] else { return plan }
        let output = Activities.chatOutput(from: chatResult)
        // As a step of an orchestration, the parent logs the whole plan once (with every
        // step's cost); logging each step too would count the spend twice.
        guard context.parentWorkflowID.isEmpty else {
            plan.completion = .complete(output.json)
            return plan
        }
        let log = LogResult(requestID: chat.requestID, apiKeyID: chat.apiKeyID, kind: "chat", mode: chat.policy.mode,
                            output: output, dispatcher: "temporal", budgetUSD: chat.policy.maxBudgetUSD, maxLatencyMs: chat.policy.maxLatencyMs,
                            traceparent: chat.traceparent)
        plan.add(.activity(Self.logStep, type: Activities.logResult, input: log.json, options: Activities.logOptions))
        // A failed log write is counted by the host; it never turns an answered request into an error.
        guard results[Self.logStep] != nil else { return plan }
        plan.completion = .complete(output.json)
        return plan
    }
}

/// The activity types TokenHub's workflows schedule, and their options.
public enum Activities {
    /// Routes and sends one chat request; ChatInput → ChatOutput.
    public static let chat = "ChatActivity"
    /// Records one request's outcome; LogResult → null.
    public static let logResult = "LogResultActivity"

    /// The failure type for input no retry can fix.
    public static let invalidInput = "InvalidInput"

    /// ChatActivity: one attempt per provider call sequence. The engine does its own provider
    /// failover and returns provider errors as a ChatOutput, so the activity fails only when
    /// the worker itself is lost (heartbeat timeout); only then is it retried, at most twice.
    ///
    /// It first runs inside the workflow task (`chatLocalBudget`): a call that answers within
    /// it is recorded as a `LocalActivity` marker and costs no task-queue round trip. A longer
    /// call becomes a regular, heartbeating activity that the running call completes.
    public static func chatOptions(_ policy: Policy) -> ActivityOptions {
        ActivityOptions(startToClose: .milliseconds(policy.maxLatencyMs) + .seconds(30), heartbeat: .seconds(10),
                        maximumAttempts: 3, initialRetryInterval: .seconds(1), nonRetryableErrorTypes: [invalidInput],
                        localAttemptBudget: chatLocalBudget)
    }

    /// How long a chat call may run inside the workflow task before it becomes an activity.
    /// Below half the 10 s default workflow task timeout, so the task is always reported in time.
    public static let chatLocalBudget: Duration = .seconds(4)

    /// LogResultActivity: idempotent (the store keeps one row per request id), so retried
    /// freely; a write is a queue append, so it runs inside the workflow task first.
    public static let logOptions = ActivityOptions(startToClose: .seconds(30), maximumAttempts: 10,
                                                   initialRetryInterval: .milliseconds(500), nonRetryableErrorTypes: [invalidInput],
                                                   localAttemptBudget: .seconds(2))

    /// The ChatOutput a chat step produced; a failed step becomes an output carrying the error.
    public static func chatOutput(from result: StepResult) -> ChatOutput {
        switch result {
        case .completed(let json):
            if let output = try? ChatOutput(json: json) { return output }
            return ChatOutput(error: "ChatActivity returned something that is not a ChatOutput", errorClass: .fatal)
        case .failed(let message):
            return ChatOutput(error: "ChatActivity failed: \(message)", errorClass: .fatal)
        }
    }
}
