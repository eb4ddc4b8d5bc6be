import TokenHubCore

/// A workflow written as a pure function of its input and the results its steps have
/// produced so far.
///
/// The worker keeps no workflow state between tasks: on every workflow task it rebuilds the
/// results from the full history and calls `plan` again. `plan` must therefore be
/// deterministic — the same input and results always give the same steps in the same order —
/// and must do no I/O, read no clock and draw no random numbers. Slow or side-effecting work
/// belongs in activities.
public protocol WorkflowDefinition: Sendable {
    /// The registered workflow type name, e.g. `ChatWorkflow`.
    var name: String { get }
    /// Every step the workflow has taken given `results`, in order, and its completion once
    /// it has one.
    /// - Throws: `WorkflowPlanError` when the input cannot be read; the workflow then fails.
    func plan(input: JSONValue, results: StepResults, context: WorkflowContext) throws(WorkflowPlanError) -> WorkflowPlan
}

/// What a workflow knows about the run it is in (all fixed at start, so replay-safe).
public struct WorkflowContext: Sendable {
    /// The workflow ID.
    public var workflowID: String
    /// The task queue the workflow runs on; activities are scheduled there.
    public var taskQueue: String
    /// The parent's workflow ID when this run is a child workflow, else "".
    public var parentWorkflowID: String

    /// Creates a context.
    public init(workflowID: String, taskQueue: String, parentWorkflowID: String = "") {
        self.workflowID = workflowID
        self.taskQueue = taskQueue
        self.parentWorkflowID = parentWorkflowID
    }
}

/// Why a workflow's input could not be planned.
public struct WorkflowPlanError: Error, Sendable, CustomStringConvertible {
    /// What was wrong with the input, naming the field.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// How a step ended.
public enum StepResult: Sendable, Equatable {
    /// The activity or child workflow returned this value.
    case completed(JSONValue)
    /// It failed, timed out or was canceled, with why.
    case failed(String)
}

/// The results of a run's steps so far, by step ID.
public struct StepResults: Sendable, Equatable {
    var byID: [String: StepResult]

    /// Creates results (tests build them by hand; the replayer builds them from history).
    public init(_ byID: [String: StepResult] = [:]) {
        self.byID = byID
    }

    /// The result of the step with this ID, nil while it has none.
    public subscript(stepID: String) -> StepResult? { byID[stepID] }
}

/// The steps a workflow has taken and, once done, how it ends.
public struct WorkflowPlan: Sendable, Equatable {
    /// Steps in the order the workflow takes them.
    public var steps: [WorkflowStep] = []
    /// Set once the workflow is done.
    public var completion: WorkflowCompletion?

    /// An empty plan.
    public init() {}

    /// Adds a step.
    public mutating func add(_ step: WorkflowStep) { steps.append(step) }
}

/// One step: an activity or a child workflow, identified by an ID unique within the run.
public struct WorkflowStep: Sendable, Equatable {
    /// What kind of step.
    public enum Kind: Sendable, Equatable {
        /// An activity of this type with these options.
        case activity(type: String, options: ActivityOptions)
        /// A child workflow of this type; `id` is the child's workflow ID.
        case childWorkflow(type: String)
    }

    /// The activity ID, or the child's workflow ID.
    public var id: String
    /// What runs.
    public var kind: Kind
    /// Its single JSON argument.
    public var input: JSONValue

    /// An activity step.
    public static func activity(_ id: String, type: String, input: JSONValue, options: ActivityOptions) -> WorkflowStep {
        WorkflowStep(id: id, kind: .activity(type: type, options: options), input: input)
    }

    /// A child-workflow step.
    public static func child(_ workflowID: String, type: String, input: JSONValue) -> WorkflowStep {
        WorkflowStep(id: workflowID, kind: .childWorkflow(type: type), input: input)
    }

    /// The budget of a first attempt inside the workflow task; zero when there is none.
    public var localAttemptBudget: Duration {
        if case .activity(_, let options) = kind { return options.localAttemptBudget }
        return .zero
    }

    /// The activity or workflow type name.
    public var typeName: String {
        switch kind {
        case .activity(let type, _), .childWorkflow(let type): type
        }
    }
}

/// Timeouts and retries of one activity.
public struct ActivityOptions: Sendable, Equatable {
    /// Limit on one attempt.
    public var startToClose: Duration
    /// The attempt is presumed dead when no heartbeat arrives within this (zero = none).
    public var heartbeat: Duration
    /// Attempts in all, including the first (1 = never retried).
    public var maximumAttempts: Int
    /// First retry delay; doubles per attempt.
    public var initialRetryInterval: Duration
    /// Failure types that are never retried.
    public var nonRetryableErrorTypes: [String]
    /// Zero: the step is always a regular activity. Otherwise the worker first runs it inside
    /// the workflow task and records its result as a `LocalActivity` marker, which costs no
    /// task-queue round trip; if the attempt has not finished within this budget (or fails in
    /// a way a retry could fix), the step becomes a regular activity with the options above,
    /// and the call already running in this worker completes it: the work is not started twice.
    public var localAttemptBudget: Duration

    /// Creates options.
    public init(startToClose: Duration, heartbeat: Duration = .zero, maximumAttempts: Int,
                initialRetryInterval: Duration = .seconds(1), nonRetryableErrorTypes: [String] = [],
                localAttemptBudget: Duration = .zero) {
        self.startToClose = startToClose
        self.heartbeat = heartbeat
        self.maximumAttempts = maximumAttempts
        self.initialRetryInterval = initialRetryInterval
        self.nonRetryableErrorTypes = nonRetryableErrorTypes
        self.localAttemptBudget = localAttemptBudget
    }
}

/// How a workflow ends.
public enum WorkflowCompletion: Sendable, Equatable {
    /// Completes with this result.
    case complete(JSONValue)
    /// Fails with this message and failure type.
    case fail(message: String, type: String)
}
