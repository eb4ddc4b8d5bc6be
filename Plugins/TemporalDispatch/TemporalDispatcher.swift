import Foundation
import PluginAPI
import PluginKit
import Synchronization
import TemporalKit
import TokenHubCore
import TokenHubWorkflows

/// Runs chat and plan requests as Temporal workflows (the seed's handler flow) and runs the
/// worker that executes them. Answers `TOKENHUB_ERR_UNAVAILABLE` — so the chain falls to
/// DirectDispatch — when a request cannot reach Temporal, when the circuit breaker is open,
/// and for streaming requests, which bypass Temporal.
///
/// A provider error inside a workflow is the request's answer: it neither trips the breaker
/// nor reaches the fallback, so no request runs twice.
final class TemporalDispatcher: SwiftDispatcher {
    private let host: HostTable
    private let config: TemporalDispatchConfig
    private let manager: TemporalManager
    private let client: any TemporalClient
    private let breaker: Mutex<CircuitBreaker>
    private let ledger = RequestLedger()

    /// How long past the request's deadline (`deadline_unix_ms`, set by the host) this waits
    /// for the workflow's close event: the engine inside the workflow stops at the deadline,
    /// this covers the log activity and the close. Shorter than the host's own delivery grace,
    /// so the host hears this dispatcher's timeout answer rather than giving up on it.
    static let closeGrace: Duration = .seconds(3)

    /// The wait for a request's workflow: until its deadline plus `closeGrace`, or, from a host
    /// that sends no deadline (before ABI 1.3), `budget` plus `closeGrace`.
    static func resultTimeout(deadlineUnixMs: Int64, budget: Duration) -> Duration {
        guard let deadline = RequestDeadline.instant(unixMs: deadlineUnixMs) else { return budget + closeGrace }
        return max(.zero, deadline - .now) + closeGrace
    }

    init(host: HostTable, configJSON: [UInt8]) throws {
        self.host = host
        config = try TemporalDispatchConfig(json: configJSON)
        var worker = TemporalWorker.Options()
        worker.workflowPollers = config.workflowPollers
        worker.activityPollers = config.activityPollers
        worker.maxConcurrentActivities = config.maxConcurrentActivities
        var configuration = TemporalManager.Configuration(
            host: config.host, namespace: config.namespace, taskQueue: config.taskQueue,
            identity: "\(getpid())@\(ProcessInfo.processInfo.hostName)",
            registerNamespace: config.registerNamespace, runWorker: config.worker, worker: worker)
        configuration.tls = config.tls
        do {
            manager = try TemporalManager(configuration, workflows: [ChatWorkflow(), OrchestrationWorkflow()],
                                          activities: TokenHubActivities(host: host, ledger: ledger).handlers)
        } catch {
            throw PluginError("config.host: \(error.message)")
        }
        client = manager.client
        breaker = Mutex(CircuitBreaker(failureThreshold: config.breakerFailures, openDuration: .milliseconds(saturating: config.breakerOpenSeconds * 1000)))
    }

    func start() throws {
        let host = self.host, config = self.config
        manager.start { event in
            switch event {
            case .connected:
                host.log(.info, "temporal: connected to \(config.host), namespace \(config.namespace)")
            case .notReady(let error):
                host.log(.warning, "temporal: \(config.host) not usable yet (\(error)); requests fall back until it is")
            }
        }
    }

    func chat(_ chatInputJSON: [UInt8]) async -> PluginReply {
        let input: ChatInput
        do {
            input = try JSONCoding.decode(ChatInput.self, from: chatInputJSON)
        } catch {
            return .failure(.invalidArgument, "ChatInput: \(error.message)")
        }
        if input.request.stream { return .failure(.unavailable, "streaming requests bypass Temporal") }
        let workflowID = input.idempotencyKey.isEmpty ? "chat-\(input.requestID)" : "chat-\(input.apiKeyID)-\(input.idempotencyKey)"
        let start = WorkflowStart(workflowID: workflowID, workflowType: ChatWorkflow.typeName, taskQueue: config.taskQueue,
                                  input: input.json, idPolicy: input.idempotencyKey.isEmpty ? .unique : .attachToExisting)
        return await run(start, requestID: input.requestID, timeout: Self.resultTimeout(deadlineUnixMs: input.deadlineUnixMs, budget: .milliseconds(input.policy.maxLatencyMs)))
    }

    func plan(_ orchestrationInputJSON: [UInt8]) async -> PluginReply {
        let input: OrchestrationInput
        do {
            input = try JSONCoding.decode(OrchestrationInput.self, from: orchestrationInputJSON)
        } catch {
            return .failure(.invalidArgument, "OrchestrationInput: \(error.message)")
        }
        let workflowID = input.idempotencyKey.isEmpty ? "plan-\(input.requestID)" : "plan-\(input.apiKeyID)-\(input.idempotencyKey)"
        let start = WorkflowStart(workflowID: workflowID, workflowType: OrchestrationWorkflow.typeName, taskQueue: config.taskQueue,
                                  input: input.json, idPolicy: input.idempotencyKey.isEmpty ? .unique : .attachToExisting)
        return await run(start, requestID: input.requestID,
                         timeout: Self.resultTimeout(deadlineUnixMs: input.deadlineUnixMs, budget: .milliseconds(Policy().maxLatencyMs * 8)))
    }

    /// Starts (or attaches to) the workflow and waits for its close event.
    private func run(_ start: WorkflowStart, requestID: String, timeout: Duration) async -> PluginReply {
        let admission = breaker.withLock { $0.admit(now: .now) }
        guard admission != .reject else {
            emit("temporal_fallback", requestID: requestID, ["reason": .string("circuit_open")])
            return .failure(.unavailable, "temporal: circuit open after repeated failures to reach \(config.host)")
        }
        let handle: WorkflowHandle
        do {
            handle = try await client.startWorkflow(start)
        } catch {
            // The workflow never started, so falling back cannot run the request twice.
            noteFailure(error)
            emit("temporal_fallback", requestID: requestID, ["reason": .string("unreachable")])
            return .failure(.unavailable, "temporal: \(error)")
        }
        noteSuccess()
        let started = ContinuousClock.now
        let workflow: [String: JSONValue] = ["workflow_id": .string(handle.workflowID), "workflow_type": .string(start.workflowType)]
        emit("workflow_started", requestID: requestID, workflow)
        do {
            switch try await client.result(of: handle, timeout: timeout) {
            case .completed(let json):
                guard let output = try? ChatOutput(json: json) else {
                    emit("workflow_failed", requestID: requestID, workflow.merging(["status": .string("bad_result")]) { $1 })
                    return .failure(.internal, "workflow \(handle.workflowID) returned something that is not a ChatOutput")
                }
                emit("workflow_completed", requestID: requestID, workflow.merging([
                    "duration_ms": .number(((ContinuousClock.now - started) / .milliseconds(1)).rounded()),
                    "error_class": .string(output.errorClass?.rawValue ?? ""),
                ]) { $1 })
                return PluginReply(status: output.error.isEmpty ? .ok : .upstream, result: JSONCoding.encode(output), message: output.error)
            case .closed(let status, let why):
                emit("workflow_failed", requestID: requestID, workflow.merging(["status": .string(status.rawValue.lowercased())]) { $1 })
                return .failure(.internal, "workflow \(handle.workflowID) \(status.rawValue.lowercased()): \(why)")
            }
        } catch where error.code == .timeout {
            return .failure(.timeout, "workflow \(handle.workflowID) did not finish in time; it keeps running in Temporal")
        } catch {
            // Temporal went away mid-request. If our worker already answered, that answer
            // stands; otherwise the fallback serves it and a late ChatActivity won't call the
            // provider again.
            noteFailure(error)
            if let output = ledger.handToFallback(requestID) {
                return PluginReply(status: output.error.isEmpty ? .ok : .upstream, result: JSONCoding.encode(output), message: output.error)
            }
            emit("temporal_fallback", requestID: requestID, workflow.merging(["reason": .string("lost")]) { $1 })
            return .failure(.unavailable, "temporal: lost while waiting for \(handle.workflowID): \(error)")
        }
    }

    /// Publishes one event on the host's bus (`host_emit_event`): ids and states only, never
    /// the request's content.
    private func emit(_ type: String, requestID: String? = nil, _ fields: [String: JSONValue] = [:]) {
        var event = fields
        event["type"] = .string(type)
        if let requestID { event["request_id"] = .string(requestID) }
        host.emitEvent(JSONValue.object(event).serialized)
    }

    /// Records a failure to reach Temporal; logs when it opens the breaker.
    private func noteFailure(_ error: TemporalError) {
        let opened = breaker.withLock { breaker -> Bool in
            let wasOpen = breaker.isOpen
            breaker.recordFailure(now: .now)
            return breaker.isOpen && !wasOpen
        }
        if opened {
            emit("breaker_opened", ["failures": .number(Double(config.breakerFailures)), "open_seconds": .number(Double(config.breakerOpenSeconds))])
            host.log(.warning, "temporal: circuit open for \(config.breakerOpenSeconds) s after \(config.breakerFailures) consecutive failures (\(error)); requests fall back to the next dispatcher")
        }
    }

    /// Records that a request reached Temporal; logs when it closes the breaker.
    private func noteSuccess() {
        let closed = breaker.withLock { breaker -> Bool in
            let wasOpen = breaker.isOpen
            breaker.recordSuccess()
            return wasOpen
        }
        if closed {
            emit("breaker_closed")
            host.log(.info, "temporal: circuit closed; requests run as workflows again")
        }
    }

    func stop() async {
        await manager.stop(deadline: .now + .seconds(10))
    }
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "temporal", version: "0.1.0", dispatcher: TemporalDispatcher.self)
}
