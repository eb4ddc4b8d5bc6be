import Synchronization

/// The seed's Manager: one connection and one worker for a namespace and task queue.
///
/// - `init` (the seed's `New`): validates the address and registers the workflows and
///   activities; no I/O, so an unreachable server never fails start-up.
/// - `start()`: starts the worker's pollers and, in the background, checks (or registers) the
///   namespace until it succeeds; returns at once.
/// - `client`: the `TemporalClient` for starting workflows and reading results.
/// - `stop(deadline:)`: stops polling, lets running activities finish until the deadline,
///   then closes the connection.
///
/// THREAD: `start` and `stop` once each, from the owner; `client` from anywhere.
public final class TemporalManager: Sendable {
    /// Where and what to connect to.
    public struct Configuration: Sendable {
        /// `host:port` of the frontend.
        public var host: String
        /// The namespace.
        public var namespace: String
        /// The task queue workflows and activities run on.
        public var taskQueue: String
        /// Who this process is in histories (`pid@host`).
        public var identity: String
        /// Register the namespace when it is missing (a dev server).
        public var registerNamespace: Bool
        /// Run a worker in this process.
        public var runWorker: Bool
        /// The worker's pollers and limits.
        public var worker: TemporalWorker.Options
        /// TLS to the frontend; nil: plaintext.
        public var tls: TemporalTLS? = nil

        /// Creates a configuration.
        public init(host: String, namespace: String, taskQueue: String, identity: String,
                    registerNamespace: Bool = true, runWorker: Bool = true, worker: TemporalWorker.Options = .init()) {
            self.host = host
            self.namespace = namespace
            self.taskQueue = taskQueue
            self.identity = identity
            self.registerNamespace = registerNamespace
            self.runWorker = runWorker
            self.worker = worker
        }
    }

    /// What the namespace check reports, once per state change.
    public enum Event: Sendable {
        /// The namespace answered.
        case connected
        /// It could not be reached or checked yet; requests fall back until it can.
        case notReady(TemporalError)
    }

    private let configuration: Configuration
    private let connection: TemporalConnection
    private let worker: TemporalWorker?
    private let namespaceCheck = Mutex<Task<Void, Never>?>(nil)

    /// The seed's `New`: registers `workflows` and `activities` for the task queue.
    /// - Throws: `.invalidArgument` for an address that is not `host:port`.
    public init(_ configuration: Configuration, workflows: [any WorkflowDefinition],
                activities: [String: ActivityHandler]) throws(TemporalError) {
        self.configuration = configuration
        connection = try TemporalConnection(target: configuration.host, namespace: configuration.namespace, identity: configuration.identity,
                                            tls: configuration.tls)
        worker = configuration.runWorker
            ? TemporalWorker(connection: connection, taskQueue: configuration.taskQueue, workflows: workflows,
                             activities: activities, options: configuration.worker)
            : nil
    }

    /// The client for handlers: starts ask for eager execution when this process runs the
    /// worker, so the first workflow task skips the task queue.
    public var client: any TemporalClient { EagerStartClient(connection: connection, worker: worker) }

    /// Starts the worker and the namespace check; `events` hears how the check goes.
    public func start(events: @escaping @Sendable (Event) -> Void = { _ in }) {
        worker?.start()
        let connection = self.connection, register = configuration.registerNamespace
        namespaceCheck.withLock {
            $0 = Task {
                var reported = false
                while !Task.isCancelled {
                    do throws(TemporalError) {
                        try await connection.ensureNamespace(register: register)
                        events(.connected)
                        return
                    } catch {
                        if !reported { events(.notReady(error)) }
                        reported = true
                        try? await Task.sleep(for: .seconds(2))
                    }
                }
            }
        }
    }

    /// Stops polling, waits for running activities until `deadline`, closes the connection.
    public func stop(deadline: ContinuousClock.Instant) async {
        namespaceCheck.withLock { $0?.cancel() }
        await worker?.stop(deadline: deadline)
        connection.close()
    }
}

/// The connection's client, with eager workflow start through this process's worker.
struct EagerStartClient: TemporalClient {
    let connection: TemporalConnection
    let worker: TemporalWorker?

    func startWorkflow(_ start: WorkflowStart) async throws(TemporalError) -> WorkflowHandle {
        try await connection.startWorkflow(start, eagerWorker: worker)
    }

    func result(of handle: WorkflowHandle, timeout: Duration) async throws(TemporalError) -> WorkflowOutcome {
        try await connection.result(of: handle, timeout: timeout)
    }

    func listWorkflows(status: WorkflowStatus?, limit: Int) async throws(TemporalError) -> [WorkflowSummary] {
        try await connection.listWorkflows(status: status, limit: limit)
    }

    func describeWorkflow(id: String) async throws(TemporalError) -> WorkflowDescription {
        try await connection.describeWorkflow(id: id)
    }

    func history(workflowID: String) async throws(TemporalError) -> [HistoryEventSummary] {
        try await connection.history(workflowID: workflowID)
    }
}
