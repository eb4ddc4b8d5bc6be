import TemporalProto

// Short names for the generated messages (their protobuf package makes the Swift names long).
// Only TemporalKit and its tests use them; the rest of TokenHub sees TemporalKit's own types.

public typealias WorkflowService = Temporal_Api_Workflowservice_V1_WorkflowService
public typealias PBPayload = Temporal_Api_Workflowservice_V1_Payload
public typealias PBPayloads = Temporal_Api_Workflowservice_V1_Payloads
public typealias PBHistoryEvent = Temporal_Api_Workflowservice_V1_HistoryEvent
public typealias PBHistory = Temporal_Api_Workflowservice_V1_History
public typealias PBEventType = Temporal_Api_Workflowservice_V1_EventType
public typealias PBCommand = Temporal_Api_Workflowservice_V1_Command
public typealias PBFailure = Temporal_Api_Workflowservice_V1_Failure
public typealias PBTaskQueue = Temporal_Api_Workflowservice_V1_TaskQueue
public typealias PBRetryPolicy = Temporal_Api_Workflowservice_V1_RetryPolicy
public typealias PBWorkflowExecution = Temporal_Api_Workflowservice_V1_WorkflowExecution
public typealias PBWorkflowExecutionInfo = Temporal_Api_Workflowservice_V1_WorkflowExecutionInfo
public typealias PBWorkflowExecutionStatus = Temporal_Api_Workflowservice_V1_WorkflowExecutionStatus
typealias PBWorkflowTask = Temporal_Api_Workflowservice_V1_PollWorkflowTaskQueueResponse
typealias PBActivityTask = Temporal_Api_Workflowservice_V1_PollActivityTaskQueueResponse

extension PBTaskQueue {
    /// A normal (not sticky) task queue by name: every queue TokenHub names is one.
    static func normal(_ name: String) -> PBTaskQueue {
        var queue = PBTaskQueue()
        queue.name = name
        queue.kind = .normal
        return queue
    }
}
