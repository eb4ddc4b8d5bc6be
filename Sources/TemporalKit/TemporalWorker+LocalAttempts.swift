import Synchronization
import TokenHubCore

/// Local attempts: steps with a `localAttemptBudget` run inside the workflow task, and a step
/// that outgrows its budget is escalated to a regular activity that the running call completes.
extension TemporalWorker {
    /// Runs `steps` inside the workflow task, each within its budget and before `deadline`.
    /// A step still running then is escalated: it keeps running, parked under its workflow
    /// and activity ID, and the activity task the server hands out for it joins it.
    func runLocally(_ steps: [WorkflowStep], workflowID: String, deadline: ContinuousClock.Instant) async -> [String: WorkflowReplayer.LocalOutcome] {
        await withTaskGroup(of: (String, WorkflowReplayer.LocalOutcome).self) { group in
            for step in steps {
                group.addTask {
                    guard let handler = self.activities[step.typeName] else { return (step.id, .escalated) }
                    let key = Self.escalationKey(workflowID, step.id)
                    let attempt = ActivityAttempt(input: step.input, attempt: 1, workflowID: workflowID, activityID: step.id)
                    // A retried task (its first report was lost) joins the call still parked
                    // here instead of starting the work again.
                    let call = self.escalated.withLock { $0.removeValue(forKey: key) } ?? Task { () async -> Result<JSONValue, ActivityFailure> in
                        do throws(ActivityFailure) { return .success(try await handler(attempt)) } catch { return .failure(error) }
                    }
                    let limit = min(ContinuousClock.now + step.localAttemptBudget, deadline)
                    switch await Self.value(of: call, before: limit) {
                    case .success(let value)?:
                        return (step.id, .finished(.completed(value)))
                    case .failure(let failure)? where failure.nonRetryable:
                        return (step.id, .finished(.failed(failure.message)))
                    case .failure?:
                        return (step.id, .escalated) // the activity's retry policy takes over
                    case nil:
                        self.park(call, key: key)
                        return (step.id, .escalated)
                    }
                }
            }
            var outcomes: [String: WorkflowReplayer.LocalOutcome] = [:]
            for await (id, outcome) in group { outcomes[id] = outcome }
            return outcomes
        }
    }

    /// The call's result if it arrives before `limit`; nil if not. The call keeps running
    /// either way, and this returns at `limit` without waiting for it (a task group would).
    private static func value<T: Sendable>(of call: Task<T, Never>, before limit: ContinuousClock.Instant) async -> T? {
        let first = FirstAnswer<T?>()
        return await withCheckedContinuation { continuation in
            first.set(continuation)
            let timer = Task {
                do { try await Task.sleep(until: limit) } catch { return }
                first.answer(nil)
            }
            Task {
                first.answer(await call.value)
                timer.cancel()
            }
        }
    }

    static func escalationKey(_ workflowID: String, _ activityID: String) -> String { workflowID + "\u{0}" + activityID }

    /// Keeps an escalated call until its activity task claims it; an unclaimed one (the task
    /// went to another worker) is dropped a while after it finished.
    private func park(_ call: Task<Result<JSONValue, ActivityFailure>, Never>, key: String) {
        escalated.withLock { $0[key] = call }
        Task {
            _ = await call.value
            try? await Task.sleep(for: Self.unclaimedEscalationLifetime)
            self.escalated.withLock { parked in
                if parked[key] == call { parked[key] = nil }
            }
        }
    }

    /// How long a finished escalated call waits for its activity task.
    static let unclaimedEscalationLifetime: Duration = .seconds(300)
}

/// A continuation resumed by whichever of several racing tasks answers first.
private final class FirstAnswer<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<T, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func answer(_ value: T) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
