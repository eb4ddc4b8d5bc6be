import TemporalProto
import TokenHubCore

/// Rebuilds a workflow's state from its full history and decides the commands of the
/// current workflow task. Pure: no I/O, so replay tests feed it recorded histories.
///
/// The history's command-produced events (`ActivityTaskScheduled`, `LocalActivity` markers,
/// `StartChildWorkflowExecutionInitiated`) are the steps the workflow took in earlier tasks.
/// Re-running `plan` must reproduce them in the same order with the same IDs and types;
/// anything else is nondeterminism and fails the task (cause `NON_DETERMINISTIC_ERROR`)
/// rather than letting the run diverge. Steps past the recorded ones are the new commands.
public enum WorkflowReplayer {
    /// What the worker sends back for a workflow task.
    public enum Decision: Sendable, Equatable {
        /// `RespondWorkflowTaskCompleted` with these commands.
        case commands([PBCommand])
        /// `RespondWorkflowTaskFailed` with this cause and message.
        case failTask(nondeterministic: Bool, message: String)
        /// Run these steps inside this task first (they have a local attempt budget and no
        /// outcome yet), then decide again with their outcomes.
        case runLocally([WorkflowStep])
    }

    /// How a step's attempt inside the workflow task went.
    public enum LocalOutcome: Sendable, Equatable {
        /// It finished: recorded as a `LocalActivity` marker.
        case finished(StepResult)
        /// It did not finish in its budget (or failed retryably): scheduled as an activity.
        case escalated
    }

    /// The marker name local activities are recorded under (the name the official SDKs use).
    public static let localActivityMarker = "LocalActivity"

    /// A step the history says was taken.
    struct RecordedStep: Equatable {
        var id: String
        var typeName: String
        var isChild: Bool
        var eventID: Int64
    }

    /// Decides one workflow task from `events` (the full history up to the task's start) and
    /// the outcomes of the steps this task already ran locally.
    public static func decide(_ definition: any WorkflowDefinition, events: [PBHistoryEvent],
                              local: [String: LocalOutcome] = [:]) -> Decision {
        guard let first = events.first, case .workflowExecutionStartedEventAttributes(let started) = first.attributes else {
            return .failTask(nondeterministic: false, message: "history does not begin with WorkflowExecutionStarted")
        }
        let input: JSONValue
        do {
            input = try JSONPayloads.decodeFirst(started.input)
        } catch {
            return .commands([failCommand(message: "workflow input: \(error.message)", type: "InvalidInput")])
        }
        var (recorded, results) = replay(events)
        for case let (id, .finished(result)) in local { results.byID[id] = result }
        let context = WorkflowContext(workflowID: started.workflowID, taskQueue: started.taskQueue.name,
                                      parentWorkflowID: started.parentWorkflowExecution.workflowID)
        let plan: WorkflowPlan
        do {
            plan = try definition.plan(input: input, results: results, context: context)
        } catch {
            return .commands([failCommand(message: "\(definition.name) input: \(error.message)", type: "InvalidInput")])
        }
        for (index, step) in recorded.enumerated() {
            guard index < plan.steps.count else {
                return .failTask(nondeterministic: true, message: "history event \(step.eventID) started \(step.typeName) \"\(step.id)\", but \(definition.name) now takes only \(plan.steps.count) steps")
            }
            let planned = plan.steps[index]
            let plannedIsChild: Bool = if case .childWorkflow = planned.kind { true } else { false }
            guard planned.id == step.id, planned.typeName == step.typeName, plannedIsChild == step.isChild else {
                return .failTask(nondeterministic: true, message: "history event \(step.eventID) started \(step.typeName) \"\(step.id)\", but \(definition.name) now takes \(planned.typeName) \"\(planned.id)\" as step \(index + 1)")
            }
        }
        var commands: [PBCommand] = []
        var runNow: [WorkflowStep] = []
        for step in plan.steps.dropFirst(recorded.count) {
            if step.localAttemptBudget > .zero {
                switch local[step.id] {
                case .finished(let result)?:
                    commands.append(markerCommand(for: step, result: result))
                    continue
                case nil:
                    runNow.append(step)
                    continue
                case .escalated?:
                    break
                }
            }
            commands.append(command(for: step, taskQueue: context.taskQueue))
        }
        if !runNow.isEmpty { return .runLocally(runNow) }
        switch plan.completion {
        case .complete(let result)?:
            var command = PBCommand()
            command.commandType = .completeWorkflowExecution
            var attributes = Temporal_Api_Workflowservice_V1_CompleteWorkflowExecutionCommandAttributes()
            attributes.result = JSONPayloads.encode(result)
            command.completeWorkflowExecutionCommandAttributes = attributes
            commands.append(command)
        case .fail(let message, let type)?:
            commands.append(failCommand(message: message, type: type))
        case nil:
            break
        }
        return .commands(commands)
    }

    /// The steps taken and the results known, from the history.
    static func replay(_ events: [PBHistoryEvent]) -> ([RecordedStep], StepResults) {
        var recorded: [RecordedStep] = []
        var stepByEventID: [Int64: String] = [:]
        var results: [String: StepResult] = [:]
        for event in events {
            switch event.attributes {
            case .activityTaskScheduledEventAttributes(let attributes):
                recorded.append(RecordedStep(id: attributes.activityID, typeName: attributes.activityType.name, isChild: false, eventID: event.eventID))
                stepByEventID[event.eventID] = attributes.activityID
            case .activityTaskCompletedEventAttributes(let attributes):
                if let id = stepByEventID[attributes.scheduledEventID] {
                    results[id] = decodedResult(attributes.result)
                }
            case .activityTaskFailedEventAttributes(let attributes):
                if let id = stepByEventID[attributes.scheduledEventID] { results[id] = .failed(attributes.failure.message) }
            case .activityTaskTimedOutEventAttributes(let attributes):
                if let id = stepByEventID[attributes.scheduledEventID] { results[id] = .failed("activity timed out: \(attributes.failure.message)") }
            case .activityTaskCanceledEventAttributes(let attributes):
                if let id = stepByEventID[attributes.scheduledEventID] { results[id] = .failed("activity canceled") }
            case .markerRecordedEventAttributes(let attributes) where attributes.markerName == localActivityMarker:
                let id = (try? JSONPayloads.decodeFirst(attributes.details["activity_id"] ?? PBPayloads()))?.stringValue ?? ""
                let type = (try? JSONPayloads.decodeFirst(attributes.details["type"] ?? PBPayloads()))?.stringValue ?? ""
                recorded.append(RecordedStep(id: id, typeName: type, isChild: false, eventID: event.eventID))
                results[id] = attributes.hasFailure ? .failed(attributes.failure.message) : decodedResult(attributes.details["result"] ?? PBPayloads())
            case .startChildWorkflowExecutionInitiatedEventAttributes(let attributes):
                recorded.append(RecordedStep(id: attributes.workflowID, typeName: attributes.workflowType.name, isChild: true, eventID: event.eventID))
                stepByEventID[event.eventID] = attributes.workflowID
            case .startChildWorkflowExecutionFailedEventAttributes(let attributes):
                if let id = stepByEventID[attributes.initiatedEventID] { results[id] = .failed("child workflow could not start: \(attributes.cause)") }
            case .childWorkflowExecutionCompletedEventAttributes(let attributes):
                if let id = stepByEventID[attributes.initiatedEventID] { results[id] = decodedResult(attributes.result) }
            case .childWorkflowExecutionFailedEventAttributes(let attributes):
                if let id = stepByEventID[attributes.initiatedEventID] { results[id] = .failed(attributes.failure.message) }
            case .childWorkflowExecutionCanceledEventAttributes(let attributes):
                if let id = stepByEventID[attributes.initiatedEventID] { results[id] = .failed("child workflow canceled") }
            case .childWorkflowExecutionTimedOutEventAttributes(let attributes):
                if let id = stepByEventID[attributes.initiatedEventID] { results[id] = .failed("child workflow timed out") }
            case .childWorkflowExecutionTerminatedEventAttributes(let attributes):
                if let id = stepByEventID[attributes.initiatedEventID] { results[id] = .failed("child workflow terminated") }
            default:
                break
            }
        }
        return (recorded, StepResults(results))
    }

    private static func decodedResult(_ payloads: PBPayloads) -> StepResult {
        do {
            return .completed(try JSONPayloads.decodeFirst(payloads))
        } catch {
            return .failed(error.message)
        }
    }

    static func command(for step: WorkflowStep, taskQueue: String) -> PBCommand {
        var command = PBCommand()
        switch step.kind {
        case .activity(let type, let options):
            var attributes = Temporal_Api_Workflowservice_V1_ScheduleActivityTaskCommandAttributes()
            attributes.activityID = step.id
            attributes.activityType.name = type
            attributes.taskQueue = .normal(taskQueue)
            attributes.input = JSONPayloads.encode(step.input)
            attributes.startToCloseTimeout = .init(rounding: options.startToClose)
            if options.heartbeat > .zero { attributes.heartbeatTimeout = .init(rounding: options.heartbeat) }
            var retry = PBRetryPolicy()
            retry.initialInterval = .init(rounding: options.initialRetryInterval)
            retry.backoffCoefficient = 2
            retry.maximumAttempts = Int32(clamping: options.maximumAttempts)
            retry.nonRetryableErrorTypes = options.nonRetryableErrorTypes
            attributes.retryPolicy = retry
            command.commandType = .scheduleActivityTask
            command.scheduleActivityTaskCommandAttributes = attributes
        case .childWorkflow(let type):
            var attributes = Temporal_Api_Workflowservice_V1_StartChildWorkflowExecutionCommandAttributes()
            attributes.workflowID = step.id
            attributes.workflowType.name = type
            attributes.taskQueue = .normal(taskQueue)
            attributes.input = JSONPayloads.encode(step.input)
            attributes.parentClosePolicy = .terminate
            command.commandType = .startChildWorkflowExecution
            command.startChildWorkflowExecutionCommandAttributes = attributes
        }
        return command
    }

    /// The `LocalActivity` marker recording a step run inside the workflow task.
    static func markerCommand(for step: WorkflowStep, result: StepResult) -> PBCommand {
        var attributes = Temporal_Api_Workflowservice_V1_RecordMarkerCommandAttributes()
        attributes.markerName = localActivityMarker
        attributes.details["activity_id"] = JSONPayloads.encode(.string(step.id))
        attributes.details["type"] = JSONPayloads.encode(.string(step.typeName))
        switch result {
        case .completed(let value):
            attributes.details["result"] = JSONPayloads.encode(value)
        case .failed(let message):
            var failure = PBFailure()
            failure.message = message
            failure.source = "TokenHub"
            failure.applicationFailureInfo.type = "LocalActivityFailed"
            failure.applicationFailureInfo.nonRetryable = true
            attributes.failure = failure
        }
        var command = PBCommand()
        command.commandType = .recordMarker
        command.recordMarkerCommandAttributes = attributes
        return command
    }

    static func failCommand(message: String, type: String) -> PBCommand {
        var failure = PBFailure()
        failure.message = message
        failure.source = "TokenHub"
        failure.applicationFailureInfo.type = type
        failure.applicationFailureInfo.nonRetryable = true
        var attributes = Temporal_Api_Workflowservice_V1_FailWorkflowExecutionCommandAttributes()
        attributes.failure = failure
        var command = PBCommand()
        command.commandType = .failWorkflowExecution
        command.failWorkflowExecutionCommandAttributes = attributes
        return command
    }
}
