import Foundation
import GRPCCore
import TemporalProto
import TokenHubCore

extension TemporalConnection: TemporalClient {
    public func startWorkflow(_ start: WorkflowStart) async throws(TemporalError) -> WorkflowHandle {
        try await startWorkflow(start, eagerWorker: nil)
    }

    /// Starts a workflow; with `eagerWorker` (a worker of this process polling the start's
    /// task queue) it asks for eager execution, and the server may hand the first workflow
    /// task back in the response instead of through the task queue.
    func startWorkflow(_ start: WorkflowStart, eagerWorker: TemporalWorker?) async throws(TemporalError) -> WorkflowHandle {
        var request = Temporal_Api_Workflowservice_V1_StartWorkflowExecutionRequest()
        request.namespace = namespace
        request.workflowID = start.workflowID
        request.workflowType.name = start.workflowType
        request.taskQueue = .normal(start.taskQueue)
        request.input = JSONPayloads.encode(start.input)
        request.identity = identity
        // The same request id for the same workflow id is an idempotent retry of this start.
        request.requestID = start.workflowID
        if start.executionTimeout > .zero { request.workflowExecutionTimeout = .init(rounding: start.executionTimeout) }
        switch start.idPolicy {
        case .unique:
            request.requestEagerExecution = eagerWorker?.runs(taskQueue: start.taskQueue) ?? false
        case .attachToExisting:
            request.workflowIDReusePolicy = .rejectDuplicate
            request.workflowIDConflictPolicy = .useExisting
            request.requestEagerExecution = eagerWorker?.runs(taskQueue: start.taskQueue) ?? false
        }
        do {
            let response = try await call("StartWorkflowExecution") {
                // waitForReady rides out a reconnect (the server may drop a busy connection);
                // the short deadline bounds what a request pays when the server is really down.
                try await service.startWorkflowExecution(request, options: Self.options(timeout: Self.startTimeout, waitForReady: true))
            }
            var handle = WorkflowHandle(workflowID: start.workflowID, runID: response.runID, started: response.started)
            if response.hasEagerWorkflowTask, !response.eagerWorkflowTask.taskToken.isEmpty, let eagerWorker {
                handle.closedByFirstTask = eagerWorker.runEager(response.eagerWorkflowTask)
            }
            return handle
        } catch where error.code == .alreadyStarted && start.idPolicy == .attachToExisting {
            // Closed with this ID before: its result is the answer (the latest run).
            return WorkflowHandle(workflowID: start.workflowID, runID: "", started: false)
        }
    }

    /// How long a start may wait for a connection before the request falls back.
    static let startTimeout: Duration = .seconds(2)

    /// Consecutive failed result polls retried before the wait is reported as failed.
    static let resultPollRetries = 5

    public func result(of handle: WorkflowHandle, timeout: Duration) async throws(TemporalError) -> WorkflowOutcome {
        let deadline = ContinuousClock.now + timeout
        // Our worker ran the first task; if it closed the run, that result is final and the
        // long poll (a server round trip and a history read) is not needed.
        if let closing = handle.closedByFirstTask, let result = await closing.value {
            return .completed(result)
        }
        var runID = handle.runID
        var token = Data()
        var failures = 0
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw TemporalError(.timeout, "workflow \(handle.workflowID) did not close within \(timeout)")
            }
            var request = Temporal_Api_Workflowservice_V1_GetWorkflowExecutionHistoryRequest()
            request.namespace = namespace
            request.execution.workflowID = handle.workflowID
            request.execution.runID = runID
            request.waitNewEvent = true
            request.historyEventFilterType = .closeEvent
            request.skipArchival = true
            request.nextPageToken = token
            // The server holds the poll ≤ 20 s, then answers with no event and a token.
            let callTimeout = min(remaining, Self.pollTimeout)
            let response: Temporal_Api_Workflowservice_V1_GetWorkflowExecutionHistoryResponse
            do {
                response = try await call("GetWorkflowExecutionHistory") {
                    try await service.getWorkflowExecutionHistory(request, options: Self.options(timeout: callTimeout))
                }
                failures = 0
            } catch where error.code == .unavailable && failures < Self.resultPollRetries {
                // Reading history is idempotent: a reset stream under load is retried on the
                // same run rather than reported (which would send the request to the fallback).
                failures += 1
                try? await Task.sleep(for: .milliseconds(100 * failures))
                continue
            }
            guard let event = response.history.events.first else {
                token = response.nextPageToken
                continue
            }
            switch Self.outcome(of: event) {
            case .some(.continued(let next)):
                (runID, token) = (next, Data())
            case .some(.closed(let outcome)):
                return outcome
            case .none:
                token = response.nextPageToken
            }
        }
    }

    private enum CloseEvent { case closed(WorkflowOutcome), continued(String) }

    private static func outcome(of event: PBHistoryEvent) -> CloseEvent? {
        switch event.attributes {
        case .workflowExecutionCompletedEventAttributes(let attributes):
            return .closed(.completed((try? JSONPayloads.decodeFirst(attributes.result)) ?? .null))
        case .workflowExecutionFailedEventAttributes(let attributes):
            return .closed(.closed(.failed, attributes.failure.message))
        case .workflowExecutionTimedOutEventAttributes:
            return .closed(.closed(.timedOut, "the workflow timed out"))
        case .workflowExecutionCanceledEventAttributes:
            return .closed(.closed(.canceled, "the workflow was canceled"))
        case .workflowExecutionTerminatedEventAttributes(let attributes):
            return .closed(.closed(.terminated, "terminated: \(attributes.reason)"))
        case .workflowExecutionContinuedAsNewEventAttributes(let attributes):
            return .continued(attributes.newExecutionRunID)
        default:
            return nil
        }
    }

    public func listWorkflows(status: WorkflowStatus?, limit: Int) async throws(TemporalError) -> [WorkflowSummary] {
        var request = Temporal_Api_Workflowservice_V1_ListWorkflowExecutionsRequest()
        request.namespace = namespace
        request.pageSize = Int32(clamping: max(1, limit))
        if let status { request.query = "ExecutionStatus=\"\(status.visibilityName)\"" }
        let response = try await call("ListWorkflowExecutions") {
            try await service.listWorkflowExecutions(request, options: Self.options(timeout: Self.callTimeout))
        }
        return response.executions.prefix(limit).map(Self.summary)
    }

    public func describeWorkflow(id: String) async throws(TemporalError) -> WorkflowDescription {
        var request = Temporal_Api_Workflowservice_V1_DescribeWorkflowExecutionRequest()
        request.namespace = namespace
        request.execution.workflowID = id
        let response = try await call("DescribeWorkflowExecution") {
            try await service.describeWorkflowExecution(request, options: Self.options(timeout: Self.callTimeout))
        }
        let activities: [JSONValue] = response.pendingActivities.map { activity in
            .object([
                "activity_id": .string(activity.activityID), "type": .string(activity.activityType.name),
                "state": .string(Self.trimmed("\(activity.state)")), "attempt": .number(Double(activity.attempt)),
                "last_failure": activity.hasLastFailure ? .string(activity.lastFailure.message) : .null,
            ])
        }
        let children: [JSONValue] = response.pendingChildren.map { child in
            .object(["workflow_id": .string(child.workflowID), "run_id": .string(child.runID), "type": .string(child.workflowTypeName)])
        }
        return WorkflowDescription(summary: Self.summary(response.workflowExecutionInfo), pendingActivities: activities, pendingChildren: children)
    }

    public func history(workflowID: String) async throws(TemporalError) -> [HistoryEventSummary] {
        try await fullHistory(workflowID: workflowID, runID: "").map(Self.summary)
    }

    /// Every event of a run, following page tokens.
    func fullHistory(workflowID: String, runID: String, firstPageToken: Data = Data()) async throws(TemporalError) -> [PBHistoryEvent] {
        var events: [PBHistoryEvent] = []
        var token = firstPageToken
        repeat {
            var request = Temporal_Api_Workflowservice_V1_GetWorkflowExecutionHistoryRequest()
            request.namespace = namespace
            request.execution.workflowID = workflowID
            request.execution.runID = runID
            request.nextPageToken = token
            let response = try await call("GetWorkflowExecutionHistory") {
                try await service.getWorkflowExecutionHistory(request, options: Self.options(timeout: Self.callTimeout))
            }
            events += response.history.events
            token = response.nextPageToken
        } while !token.isEmpty
        return events
    }

    static func summary(_ info: PBWorkflowExecutionInfo) -> WorkflowSummary {
        WorkflowSummary(
            workflowID: info.execution.workflowID, runID: info.execution.runID, type: info.type.name,
            status: status(info.status),
            startTime: info.hasStartTime ? info.startTime.date : nil,
            closeTime: info.hasCloseTime ? info.closeTime.date : nil,
            historyLength: Int(info.historyLength), taskQueue: info.taskQueue)
    }

    static func status(_ status: PBWorkflowExecutionStatus) -> WorkflowStatus? {
        switch status {
        case .running: .running
        case .completed: .completed
        case .failed: .failed
        case .canceled: .canceled
        case .terminated: .terminated
        case .continuedAsNew: .continuedAsNew
        case .timedOut: .timedOut
        default: nil
        }
    }

    static func summary(_ event: PBHistoryEvent) -> HistoryEventSummary {
        var summary = HistoryEventSummary(id: Int(event.eventID), type: eventTypeName(event.eventType),
                                          time: event.hasEventTime ? event.eventTime.date : nil)
        switch event.attributes {
        case .activityTaskScheduledEventAttributes(let attributes):
            summary.activityType = attributes.activityType.name
        case .markerRecordedEventAttributes(let attributes) where attributes.markerName == WorkflowReplayer.localActivityMarker:
            // An activity run inside the workflow task: the marker names it.
            summary.activityType = (try? JSONPayloads.decodeFirst(attributes.details["type"] ?? PBPayloads()))?.stringValue
            if attributes.hasFailure { summary.failure = attributes.failure.message }
        case .activityTaskFailedEventAttributes(let attributes):
            summary.failure = attributes.failure.message
        case .activityTaskTimedOutEventAttributes(let attributes):
            summary.failure = attributes.failure.message
        case .workflowExecutionFailedEventAttributes(let attributes):
            summary.failure = attributes.failure.message
        case .workflowTaskFailedEventAttributes(let attributes):
            summary.failure = attributes.failure.message
        case .childWorkflowExecutionFailedEventAttributes(let attributes):
            summary.failure = attributes.failure.message
        default:
            break
        }
        return summary
    }

    /// `activityTaskScheduled` → `ACTIVITY_TASK_SCHEDULED`: the proto's value name without its
    /// type prefix (the generated Swift case is that name in lower camel case).
    static func eventTypeName(_ type: PBEventType) -> String {
        if case .UNRECOGNIZED(let value) = type { return "UNKNOWN_\(value)" }
        return upperSnake("\(type)")
    }

    static func trimmed(_ enumCase: String) -> String { upperSnake(enumCase) }

    static func upperSnake(_ camel: String) -> String {
        var result = ""
        for character in camel {
            if character.isUppercase, !result.isEmpty { result.append("_") }
            result.append(contentsOf: character.uppercased())
        }
        return result
    }
}
