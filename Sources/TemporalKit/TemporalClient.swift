import Foundation
import TokenHubCore

/// What TokenHub needs from a Temporal client: start a workflow, wait for its result, and
/// look at workflows for the admin API. Kept this small so the official SDK could replace
/// the hand-written gRPC client behind it.
public protocol TemporalClient: Sendable {
    /// Starts a workflow, or attaches to the existing one as `start.idPolicy` allows.
    func startWorkflow(_ start: WorkflowStart) async throws(TemporalError) -> WorkflowHandle
    /// Waits until the run closes and returns how it closed.
    func result(of handle: WorkflowHandle, timeout: Duration) async throws(TemporalError) -> WorkflowOutcome
    /// Recent workflows, newest first, optionally only those with `status`.
    func listWorkflows(status: WorkflowStatus?, limit: Int) async throws(TemporalError) -> [WorkflowSummary]
    /// One workflow's current state (latest run).
    func describeWorkflow(id: String) async throws(TemporalError) -> WorkflowDescription
    /// One workflow's events (latest run), oldest first.
    func history(workflowID: String) async throws(TemporalError) -> [HistoryEventSummary]
}

/// How to start a workflow.
public struct WorkflowStart: Sendable {
    /// What an existing workflow with the same ID means.
    public enum IDPolicy: Sendable {
        /// A new run each time (the ID is unique per request anyway).
        case unique
        /// Attach to a running or closed workflow with this ID instead of starting another
        /// (idempotency keys).
        case attachToExisting
    }

    /// The workflow ID.
    public var workflowID: String
    /// The registered workflow type, e.g. `ChatWorkflow`.
    public var workflowType: String
    /// The task queue the worker polls.
    public var taskQueue: String
    /// The single JSON argument.
    public var input: JSONValue
    /// What an existing ID means.
    public var idPolicy: IDPolicy
    /// Ends the run when it is not done by then (0 = unlimited).
    public var executionTimeout: Duration

    /// Creates a start request.
    public init(workflowID: String, workflowType: String, taskQueue: String, input: JSONValue,
                idPolicy: IDPolicy = .unique, executionTimeout: Duration = .zero) {
        self.workflowID = workflowID
        self.workflowType = workflowType
        self.taskQueue = taskQueue
        self.input = input
        self.idPolicy = idPolicy
        self.executionTimeout = executionTimeout
    }
}

/// A started (or found) workflow run.
public struct WorkflowHandle: Sendable, Hashable {
    /// The workflow ID.
    public var workflowID: String
    /// The run; "" means the latest run of `workflowID`.
    public var runID: String
    /// False when an existing run was found instead of a new one started.
    public var started: Bool
    /// When this process ran the run's first workflow task (eager start): the result it
    /// closed the run with, once the server accepted it; nil when that task did not close it.
    var closedByFirstTask: Task<JSONValue?, Never>? = nil
}

/// How a workflow run closed.
public enum WorkflowOutcome: Sendable, Equatable {
    /// Completed with this result (`null` when it returned nothing).
    case completed(JSONValue)
    /// Closed without a result: failed, timed out, canceled or terminated, with why.
    case closed(WorkflowStatus, String)
}

/// A workflow execution's status, named as the admin API and Temporal's visibility name them.
public enum WorkflowStatus: String, Sendable, CaseIterable {
    case running = "RUNNING"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case canceled = "CANCELED"
    case terminated = "TERMINATED"
    case continuedAsNew = "CONTINUED_AS_NEW"
    case timedOut = "TIMED_OUT"

    /// The value visibility queries take (`ExecutionStatus="Running"`).
    var visibilityName: String {
        switch self {
        case .running: "Running"
        case .completed: "Completed"
        case .failed: "Failed"
        case .canceled: "Canceled"
        case .terminated: "Terminated"
        case .continuedAsNew: "ContinuedAsNew"
        case .timedOut: "TimedOut"
        }
    }
}

/// One workflow in a listing.
public struct WorkflowSummary: Sendable, Equatable {
    /// The workflow ID.
    public var workflowID: String
    /// The run ID.
    public var runID: String
    /// The workflow type.
    public var type: String
    /// The status, or nil for one this build does not know (e.g. a newer server's PAUSED).
    public var status: WorkflowStatus?
    /// When it started.
    public var startTime: Date?
    /// When it closed, nil while running.
    public var closeTime: Date?
    /// How many events its history has.
    public var historyLength: Int
    /// The task queue.
    public var taskQueue: String

    /// The summary as the admin API's JSON.
    public var json: JSONValue {
        .object([
            "workflow_id": .string(workflowID), "run_id": .string(runID), "type": .string(type),
            "status": .string(status?.rawValue ?? "UNKNOWN"),
            "start_time": startTime.map { .string(Self.format($0)) } ?? .null,
            "close_time": closeTime.map { .string(Self.format($0)) } ?? .null,
            "history_length": .number(Double(historyLength)), "task_queue": .string(taskQueue),
        ])
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// One workflow with what it is waiting on.
public struct WorkflowDescription: Sendable, Equatable {
    /// The workflow itself.
    public var summary: WorkflowSummary
    /// Activities scheduled or running: `{activity_id, type, state, attempt, last_failure}`.
    public var pendingActivities: [JSONValue]
    /// Child workflows not yet closed: `{workflow_id, run_id, type}`.
    public var pendingChildren: [JSONValue]

    /// The description as the admin API's JSON.
    public var json: JSONValue {
        var object = summary.json.objectValue ?? [:]
        object["pending_activities"] = .array(pendingActivities)
        object["pending_children"] = .array(pendingChildren)
        return .object(object)
    }
}

/// One history event as the admin API shows it.
public struct HistoryEventSummary: Sendable, Equatable {
    /// The event ID (1 = WorkflowExecutionStarted).
    public var id: Int
    /// The type without its prefix, e.g. `ACTIVITY_TASK_SCHEDULED`.
    public var type: String
    /// When the server recorded it.
    public var time: Date?
    /// The activity type, for activity events that name one (and `LocalActivity` markers).
    public var activityType: String?
    /// A failure message, for events that carry one.
    public var failure: String?

    /// The event as the admin API's JSON.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .number(Double(id)), "type": .string(type),
            "time": time.map { .string(WorkflowSummary.format($0)) } ?? .null,
        ]
        if let activityType { object["activity_type"] = .string(activityType) }
        if let failure { object["failure"] = .string(failure) }
        return .object(object)
    }
}
