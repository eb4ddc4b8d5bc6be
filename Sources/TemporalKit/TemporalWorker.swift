import Foundation
import GRPCCore
import Synchronization
import TemporalProto
import TokenHubCore

/// Polls one task queue for workflow and activity tasks and runs them: workflow tasks
/// through `WorkflowReplayer` (full history every time, no sticky cache), activity tasks
/// through the registered handlers.
///
/// THREAD: `start` and `stop` from one owner; the pollers run as their own tasks.
/// Workflow tasks and activities run as separate tasks, at most `maxConcurrentWorkflowTasks`
/// and `maxConcurrentActivities` at once (a poller waits for a free slot before asking the
/// server for more work, so the server never hands us more than we run). A workflow task may
/// run steps with a local attempt budget itself (see `ActivityOptions.localAttemptBudget`).
public final class TemporalWorker: Sendable {
    /// Pollers and limits.
    public struct Options: Sendable {
        /// Concurrent `PollWorkflowTaskQueue` calls; two keep one waiting while the other works.
        public var workflowPollers = 2
        /// Concurrent `PollActivityTaskQueue` calls.
        public var activityPollers = 4
        /// Activities running at once.
        public var maxConcurrentActivities = 128
        /// Polled workflow tasks handled at once (a task may run local attempts).
        public var maxConcurrentWorkflowTasks = 128
        /// Creates the defaults.
        public init() {}
    }

    private let connection: TemporalConnection
    private let taskQueue: String
    private let workflows: [String: any WorkflowDefinition]
    let activities: [String: ActivityHandler]
    private let options: Options
    private let slots: AsyncSemaphore
    private let workflowTaskSlots: AsyncSemaphore
    private let pollers = Mutex<[Task<Void, Never>]>([])
    private let running = InFlightCounter()
    /// Escalated local attempts waiting for their activity task, by workflow and activity ID.
    let escalated = Mutex<[String: Task<Result<JSONValue, ActivityFailure>, Never>]>([:])

    /// Creates a worker; nothing is polled before `start`.
    public init(connection: TemporalConnection, taskQueue: String, workflows: [any WorkflowDefinition],
                activities: [String: ActivityHandler], options: Options = Options()) {
        self.connection = connection
        self.taskQueue = taskQueue
        self.workflows = Dictionary(workflows.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.activities = activities
        self.options = options
        self.slots = AsyncSemaphore(options.maxConcurrentActivities)
        self.workflowTaskSlots = AsyncSemaphore(options.maxConcurrentWorkflowTasks)
    }

    /// Starts the pollers and returns at once.
    public func start() {
        var tasks: [Task<Void, Never>] = []
        for _ in 0..<options.workflowPollers {
            tasks.append(Task { await self.pollWorkflowTasks() })
        }
        for _ in 0..<options.activityPollers {
            tasks.append(Task { await self.pollActivityTasks() })
        }
        pollers.withLock { $0 = tasks }
    }

    /// Stops polling, then waits for running activities until `deadline`. An activity still
    /// running then is abandoned: the server times it out and retries it on another worker.
    public func stop(deadline: ContinuousClock.Instant) async {
        let tasks = pollers.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await running.waitUntilIdle(deadline: deadline)
    }

    /// True when this worker polls `taskQueue` for workflow tasks.
    func runs(taskQueue: String) -> Bool {
        taskQueue == self.taskQueue && pollers.withLock { !$0.isEmpty }
    }

    /// Runs a workflow task the server handed back outside polling (eager workflow start).
    /// Returns the result the task closed the run with, nil when it did not close it.
    func runEager(_ task: Temporal_Api_Workflowservice_V1_PollWorkflowTaskQueueResponse) -> Task<JSONValue?, Never> {
        running.enter()
        return Task {
            let closedWith = await self.handleWorkflowTask(task)
            self.running.leave()
            return closedWith
        }
    }

    /// Activities running now.
    public var runningActivities: Int { running.count }

    // MARK: Workflow tasks

    private func pollWorkflowTasks() async {
        // A task may run local attempts for seconds, so it runs apart from its poller.
        await pollLoop(slots: workflowTaskSlots, poll: { () async throws(TemporalError) -> PBWorkflowTask? in
            var request = Temporal_Api_Workflowservice_V1_PollWorkflowTaskQueueRequest()
            request.namespace = connection.namespace
            request.taskQueue = .normal(taskQueue)
            request.identity = connection.identity
            let task = try await connection.call("PollWorkflowTaskQueue") {
                try await connection.service.pollWorkflowTaskQueue(
                    request, options: TemporalConnection.options(timeout: TemporalConnection.pollTimeout, waitForReady: true))
            }
            return task.taskToken.isEmpty ? nil : task
        }, handle: { task in await self.handleWorkflowTask(task) })
    }

    /// Handles one workflow task; returns the result it closed the run with, if the server
    /// accepted a completion.
    @discardableResult
    private func handleWorkflowTask(_ task: Temporal_Api_Workflowservice_V1_PollWorkflowTaskQueueResponse) async -> JSONValue? {
        let received = ContinuousClock.now
        if task.hasQuery {
            await refuseQuery(task)
            return nil
        }
        var events = task.history.events
        if !task.nextPageToken.isEmpty {
            do {
                events += try await connection.fullHistory(workflowID: task.workflowExecution.workflowID,
                                                           runID: task.workflowExecution.runID, firstPageToken: task.nextPageToken)
            } catch {
                return nil // The task times out and the server hands it out again.
            }
        }
        guard let definition = workflows[task.workflowType.name] else {
            // Failing at once would make the server re-dispatch at once, forever; a short
            // pause keeps an unknown type from hot-looping.
            try? await Task.sleep(for: .seconds(2))
            await failWorkflowTask(task, cause: .workflowWorkerUnhandledFailure,
                                   message: "this worker has no workflow type \"\(task.workflowType.name)\" (it runs \(workflows.keys.sorted().joined(separator: ", ")))")
            return nil
        }
        var local: [String: WorkflowReplayer.LocalOutcome] = [:]
        // Local attempts must leave time to report before the workflow task times out.
        let localDeadline = received + Self.workflowTaskTimeout(events) / 2
        while true {
            switch WorkflowReplayer.decide(definition, events: events, local: local) {
            case .runLocally(let steps):
                let outcomes = await runLocally(steps, workflowID: task.workflowExecution.workflowID, deadline: localDeadline)
                local.merge(outcomes) { _, new in new }
            case .commands(var commands):
                let accepted = await complete(task, commands: &commands)
                guard accepted, let closing = commands.last, closing.commandType == .completeWorkflowExecution else { return nil }
                return try? JSONPayloads.decodeFirst(closing.completeWorkflowExecutionCommandAttributes.result)
            case .failTask(let nondeterministic, let message):
                await failWorkflowTask(task, cause: nondeterministic ? .nonDeterministicError : .workflowWorkerUnhandledFailure, message: message)
                return nil
            }
        }
    }

    /// Reports the task's commands; true when the server accepted them.
    private func complete(_ task: Temporal_Api_Workflowservice_V1_PollWorkflowTaskQueueResponse, commands: inout [PBCommand]) async -> Bool {
        // Activities on our own queue are offered to us directly in the response (eager
        // dispatch), skipping a trip through the task queue when the server allows it.
        for index in commands.indices where commands[index].commandType == .scheduleActivityTask
            && commands[index].scheduleActivityTaskCommandAttributes.taskQueue.name == taskQueue {
            commands[index].scheduleActivityTaskCommandAttributes.requestEagerExecution = true
        }
        var request = Temporal_Api_Workflowservice_V1_RespondWorkflowTaskCompletedRequest()
        request.taskToken = task.taskToken
        request.commands = commands
        request.identity = connection.identity
        request.namespace = connection.namespace
        let response = try? await connection.call("RespondWorkflowTaskCompleted") {
            try await connection.service.respondWorkflowTaskCompleted(request, options: TemporalConnection.options(timeout: TemporalConnection.callTimeout))
        }
        for activity in response?.activityTasks ?? [] where !activity.taskToken.isEmpty {
            running.enter()
            Task {
                await self.runActivity(activity)
                self.running.leave()
            }
        }
        return response != nil
    }

    /// The run's workflow task timeout (the server's default when the start set none).
    static func workflowTaskTimeout(_ events: [PBHistoryEvent]) -> Duration {
        guard case .workflowExecutionStartedEventAttributes(let started)? = events.first?.attributes,
              started.hasWorkflowTaskTimeout, started.workflowTaskTimeout.seconds > 0 else { return .seconds(10) }
        return .seconds(started.workflowTaskTimeout.seconds)
    }

    private func failWorkflowTask(_ task: Temporal_Api_Workflowservice_V1_PollWorkflowTaskQueueResponse,
                                  cause: Temporal_Api_Workflowservice_V1_WorkflowTaskFailedCause, message: String) async {
        var request = Temporal_Api_Workflowservice_V1_RespondWorkflowTaskFailedRequest()
        request.taskToken = task.taskToken
        request.cause = cause
        request.failure.message = message
        request.failure.source = "TokenHub"
        request.failure.applicationFailureInfo.type = cause == .nonDeterministicError ? "NondeterminismError" : "WorkflowTaskError"
        request.identity = connection.identity
        request.namespace = connection.namespace
        _ = try? await connection.call("RespondWorkflowTaskFailed") {
            try await connection.service.respondWorkflowTaskFailed(request, options: TemporalConnection.options(timeout: TemporalConnection.callTimeout))
        }
    }

    /// TokenHub's workflows define no queries; answering at once beats letting the caller time out.
    private func refuseQuery(_ task: Temporal_Api_Workflowservice_V1_PollWorkflowTaskQueueResponse) async {
        var request = Temporal_Api_Workflowservice_V1_RespondQueryTaskCompletedRequest()
        request.taskToken = task.taskToken
        request.completedType = .failed
        request.errorMessage = "TokenHub workflows answer no queries (asked \"\(task.query.queryType)\")"
        request.namespace = connection.namespace
        _ = try? await connection.call("RespondQueryTaskCompleted") {
            try await connection.service.respondQueryTaskCompleted(request, options: TemporalConnection.options(timeout: TemporalConnection.callTimeout))
        }
    }

    // MARK: Activity tasks

    private func pollActivityTasks() async {
        // Unstructured on purpose: an activity outlives its poll and must finish even while
        // the worker stops polling.
        await pollLoop(slots: slots, poll: { () async throws(TemporalError) -> PBActivityTask? in
            var request = Temporal_Api_Workflowservice_V1_PollActivityTaskQueueRequest()
            request.namespace = connection.namespace
            request.taskQueue = .normal(taskQueue)
            request.identity = connection.identity
            let task = try await connection.call("PollActivityTaskQueue") {
                try await connection.service.pollActivityTaskQueue(
                    request, options: TemporalConnection.options(timeout: TemporalConnection.pollTimeout, waitForReady: true))
            }
            return task.taskToken.isEmpty ? nil : task
        }, handle: { task in await self.runActivity(task) })
    }

    /// One poller: waits for a free slot, long-polls, and runs each task it gets in its own
    /// task (counted in `running`, holding the slot until done), then polls again at once.
    /// An empty poll frees the slot; errors other than the poll's own timeout back off.
    private func pollLoop<PolledTask: Sendable>(
        slots: AsyncSemaphore, poll: () async throws(TemporalError) -> PolledTask?,
        handle: @escaping @Sendable (PolledTask) async -> Void
    ) async {
        var backoff = PollBackoff()
        while !Task.isCancelled {
            await slots.acquire()
            if Task.isCancelled {
                slots.release()
                return
            }
            do throws(TemporalError) {
                let polled = try await poll()
                backoff.reset()
                guard let task = polled else {
                    slots.release()
                    continue
                }
                running.enter()
                Task {
                    await handle(task)
                    self.running.leave()
                    slots.release()
                }
            } catch {
                slots.release()
                if Task.isCancelled { return }
                if error.code != .timeout { await backoff.wait() }
            }
        }
    }

    private func runActivity(_ task: Temporal_Api_Workflowservice_V1_PollActivityTaskQueueResponse) async {
        let outcome: Result<JSONValue, ActivityFailure>
        if let call = escalated.withLock({ $0.removeValue(forKey: Self.escalationKey(task.workflowExecution.workflowID, task.activityID)) }) {
            // This worker started the step inside a workflow task and it outgrew its budget:
            // the running call is this activity's attempt.
            outcome = await withHeartbeats(task) { await call.value }
        } else if let handler = activities[task.activityType.name] {
            do {
                let input = try JSONPayloads.decodeFirst(task.input)
                let attempt = ActivityAttempt(input: input, attempt: Int(task.attempt), workflowID: task.workflowExecution.workflowID,
                                              activityID: task.activityID)
                outcome = await withHeartbeats(task) { () async -> Result<JSONValue, ActivityFailure> in
                    do throws(ActivityFailure) {
                        return .success(try await handler(attempt))
                    } catch {
                        return .failure(error)
                    }
                }
            } catch {
                outcome = .failure(ActivityFailure(type: "InvalidInput", "\(task.activityType.name) input: \(error.message)", nonRetryable: true))
            }
        } else {
            outcome = .failure(ActivityFailure(type: "UnknownActivity", "this worker has no activity type \"\(task.activityType.name)\"", nonRetryable: true))
        }
        switch outcome {
        case .success(let value):
            var request = Temporal_Api_Workflowservice_V1_RespondActivityTaskCompletedRequest()
            request.taskToken = task.taskToken
            request.result = JSONPayloads.encode(value)
            request.identity = connection.identity
            request.namespace = connection.namespace
            _ = try? await connection.call("RespondActivityTaskCompleted") {
                try await connection.service.respondActivityTaskCompleted(request, options: TemporalConnection.options(timeout: TemporalConnection.callTimeout, waitForReady: true))
            }
        case .failure(let failure):
            var request = Temporal_Api_Workflowservice_V1_RespondActivityTaskFailedRequest()
            request.taskToken = task.taskToken
            request.failure.message = failure.message
            request.failure.source = "TokenHub"
            request.failure.applicationFailureInfo.type = failure.type
            request.failure.applicationFailureInfo.nonRetryable = failure.nonRetryable
            request.identity = connection.identity
            request.namespace = connection.namespace
            _ = try? await connection.call("RespondActivityTaskFailed") {
                try await connection.service.respondActivityTaskFailed(request, options: TemporalConnection.options(timeout: TemporalConnection.callTimeout, waitForReady: true))
            }
        }
    }

    /// Runs `body` while heartbeating at a third of the heartbeat timeout, so a long
    /// provider call is not mistaken for a dead worker (and a dead worker is noticed).
    private func withHeartbeats<T: Sendable>(
        _ task: Temporal_Api_Workflowservice_V1_PollActivityTaskQueueResponse, _ body: @escaping @Sendable () async -> T
    ) async -> T {
        let timeout = task.hasHeartbeatTimeout ? Duration.seconds(task.heartbeatTimeout.seconds) + .nanoseconds(Int64(task.heartbeatTimeout.nanos)) : .zero
        guard timeout > .zero else { return await body() }
        let interval = timeout / 3
        let connection = self.connection
        let token = task.taskToken
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    var request = Temporal_Api_Workflowservice_V1_RecordActivityTaskHeartbeatRequest()
                    request.taskToken = token
                    request.identity = connection.identity
                    request.namespace = connection.namespace
                    _ = try? await connection.call("RecordActivityTaskHeartbeat") {
                        try await connection.service.recordActivityTaskHeartbeat(request, options: TemporalConnection.options(timeout: TemporalConnection.callTimeout))
                    }
                }
                return nil
            }
            var result: T?
            for await value in group {
                if let value {
                    result = value
                    group.cancelAll()
                }
            }
            return result!
        }
    }
}

/// Poll retry delays after errors: 200 ms doubling to 5 s, as the SDKs do for task polls.
struct PollBackoff {
    private var next: Duration = .milliseconds(200)

    mutating func reset() { next = .milliseconds(200) }

    mutating func wait() async {
        try? await Task.sleep(for: next)
        next = min(next * 2, .seconds(5))
    }
}
