import Foundation
import SwiftProtobuf
import TemporalKit
import TemporalProto
import Testing
import TokenHubCore
import TokenHubWorkflows

/// Histories recorded from a real server (`temporal workflow show --output json`), replayed
/// task by task: at every recorded WorkflowTaskCompleted the replayer, given the history the
/// worker saw then, must produce exactly the commands that task recorded.
@Suite struct ReplayTests {
    static func history(_ name: String) throws -> [PBHistoryEvent] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Histories"))
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return try PBHistory(jsonUTF8Data: Data(contentsOf: url), options: options).events
    }

    /// A command or command-produced event reduced to what replay must reproduce.
    struct Produced: Equatable, CustomStringConvertible {
        var kind: String
        var id: String
        var type: String
        var result: JSONValue?
        var description: String { "\(kind) \(type) \(id)" }
    }

    static func produced(by command: PBCommand) -> Produced {
        switch command.attributes {
        case .scheduleActivityTaskCommandAttributes(let a)?:
            return Produced(kind: "activity", id: a.activityID, type: a.activityType.name)
        case .startChildWorkflowExecutionCommandAttributes(let a)?:
            return Produced(kind: "child", id: a.workflowID, type: a.workflowType.name)
        case .completeWorkflowExecutionCommandAttributes(let a)?:
            return Produced(kind: "complete", id: "", type: "", result: try? JSONPayloads.decodeFirst(a.result))
        case .failWorkflowExecutionCommandAttributes(let a)?:
            return Produced(kind: "fail", id: "", type: a.failure.message)
        case .recordMarkerCommandAttributes(let a)?:
            return Produced(kind: "local", id: markerString(a.details["activity_id"]), type: markerString(a.details["type"]),
                            result: a.details["result"].flatMap { try? JSONPayloads.decodeFirst($0) })
        case nil:
            return Produced(kind: "none", id: "", type: "")
        }
    }

    static func markerString(_ payloads: PBPayloads?) -> String {
        payloads.flatMap { try? JSONPayloads.decodeFirst($0) }?.stringValue ?? ""
    }

    /// The commands each recorded task produced, keyed by its WorkflowTaskCompleted event id.
    static func recordedCommands(_ events: [PBHistoryEvent]) -> [Int64: [Produced]] {
        var byTask: [Int64: [Produced]] = [:]
        for event in events {
            switch event.attributes {
            case .activityTaskScheduledEventAttributes(let a):
                byTask[a.workflowTaskCompletedEventID, default: []].append(Produced(kind: "activity", id: a.activityID, type: a.activityType.name))
            case .startChildWorkflowExecutionInitiatedEventAttributes(let a):
                byTask[a.workflowTaskCompletedEventID, default: []].append(Produced(kind: "child", id: a.workflowID, type: a.workflowType.name))
            case .markerRecordedEventAttributes(let a):
                byTask[a.workflowTaskCompletedEventID, default: []].append(
                    Produced(kind: "local", id: markerString(a.details["activity_id"]), type: markerString(a.details["type"]),
                             result: a.details["result"].flatMap { try? JSONPayloads.decodeFirst($0) }))
            case .workflowExecutionCompletedEventAttributes(let a):
                byTask[a.workflowTaskCompletedEventID, default: []].append(
                    Produced(kind: "complete", id: "", type: "", result: try? JSONPayloads.decodeFirst(a.result)))
            default:
                break
            }
        }
        return byTask
    }

    /// Decides a task as the worker did when it was recorded: a step the task ran locally
    /// finished with the result its marker holds; one it scheduled as an activity had been
    /// escalated (histories from before local attempts schedule every step).
    static func decideAsRecorded(_ definition: any WorkflowDefinition, _ seen: [PBHistoryEvent], _ produced: [Produced]) -> WorkflowReplayer.Decision {
        var local: [String: WorkflowReplayer.LocalOutcome] = [:]
        while true {
            let decision = WorkflowReplayer.decide(definition, events: seen, local: local)
            guard case .runLocally(let steps) = decision else { return decision }
            for step in steps {
                if let marker = produced.first(where: { $0.kind == "local" && $0.id == step.id }) {
                    local[step.id] = .finished(.completed(marker.result ?? .null))
                } else {
                    local[step.id] = .escalated
                }
            }
        }
    }

    /// Replays every task of `events` with `definition`; returns how many tasks were checked.
    static func replayEveryTask(_ definition: any WorkflowDefinition, _ events: [PBHistoryEvent]) throws -> Int {
        let recorded = recordedCommands(events)
        var checked = 0
        for event in events {
            guard case .workflowTaskCompletedEventAttributes(let completed) = event.attributes else { continue }
            let seen = events.filter { $0.eventID <= completed.startedEventID }
            let decision = decideAsRecorded(definition, seen, recorded[event.eventID, default: []])
            guard case .commands(let commands) = decision else {
                Issue.record("task \(event.eventID): \(decision)")
                continue
            }
            #expect(commands.map(produced) == recorded[event.eventID, default: []], "task completed at event \(event.eventID)")
            checked += 1
        }
        return checked
    }

    @Test func chatWorkflowReplaysItsRecordedHistory() throws {
        let events = try Self.history("chat")
        #expect(try Self.replayEveryTask(ChatWorkflow(), events) == 3)
        let types = events.compactMap { event -> String? in
            if case .activityTaskScheduledEventAttributes(let a) = event.attributes { return a.activityType.name }
            return nil
        }
        #expect(types == ["ChatActivity", "LogResultActivity"])
    }

    /// A prompt answer: both steps ran inside the first task and were recorded as markers.
    @Test func chatWithLocalAttemptsReplaysAsMarkers() throws {
        let events = try Self.history("chat-local")
        #expect(try Self.replayEveryTask(ChatWorkflow(), events) == 1)
        let recorded = Self.recordedCommands(events).values.flatMap { $0 }
        #expect(recorded.filter { $0.kind == "local" }.map(\.type) == ["ChatActivity", "LogResultActivity"])
        // Run fresh from the start with both attempts finishing, the task gives the same
        // commands: two markers carrying the recorded results, then the completion.
        let firstStart = try #require(events.first { $0.eventType == .workflowTaskStarted })
        let decision = Self.decideAsRecorded(ChatWorkflow(), events.filter { $0.eventID <= firstStart.eventID }, recorded)
        guard case .commands(let commands) = decision else {
            Issue.record("expected commands, got \(decision)")
            return
        }
        #expect(commands.map(Self.produced).map(\.kind) == ["local", "local", "complete"])
    }

    /// A call that outgrew its local budget: ChatActivity was scheduled as an activity, the log
    /// step then ran locally in the next task.
    @Test func escalatedChatReplaysAsActivityThenMarker() throws {
        let events = try Self.history("chat-escalated")
        #expect(try Self.replayEveryTask(ChatWorkflow(), events) == 2)
        let firstStart = try #require(events.first { $0.eventType == .workflowTaskStarted })
        // Replayed without the escalation, the first task asks to run the call locally.
        let decision = WorkflowReplayer.decide(ChatWorkflow(), events: events.filter { $0.eventID <= firstStart.eventID })
        guard case .runLocally(let steps) = decision else {
            Issue.record("expected a local attempt, got \(decision)")
            return
        }
        #expect(steps.map(\.typeName) == ["ChatActivity"])
    }

    /// A marker naming another activity than the workflow takes is nondeterminism, as for
    /// scheduled activities.
    @Test func aMarkerForAnotherStepIsNondeterministic() throws {
        var events = try Self.history("chat-local")
        let index = try #require(events.firstIndex { $0.eventType == .markerRecorded })
        events[index].markerRecordedEventAttributes.details["type"] = JSONPayloads.encode(.string("SummarizeActivity"))
        let lastStart = try #require(events.last { $0.eventType == .workflowTaskStarted })
        let decision = WorkflowReplayer.decide(ChatWorkflow(), events: events.filter { $0.eventID <= lastStart.eventID } + events.filter { $0.eventType == .markerRecorded })
        guard case .failTask(let nondeterministic, let message) = decision else {
            Issue.record("expected a failed task, got \(decision)")
            return
        }
        #expect(nondeterministic)
        #expect(message.contains("SummarizeActivity"))
    }

    @Test func childChatWorkflowSkipsTheLogStep() throws {
        let events = try Self.history("chat-child")
        #expect(try Self.replayEveryTask(ChatWorkflow(), events) == 2)
    }

    @Test(arguments: ["vote", "adversarial", "refine"])
    func orchestrationWorkflowReplaysItsRecordedHistory(_ name: String) throws {
        let events = try Self.history(name)
        let checked = try Self.replayEveryTask(OrchestrationWorkflow(), events)
        #expect(checked >= 3)
    }

    @Test func voteStartsEveryVoterInOneTask() throws {
        let recorded = Self.recordedCommands(try Self.history("vote"))
        let firstTask = try #require(recorded.keys.min())
        #expect(recorded[firstTask]?.map { String($0.id.split(separator: "/").last ?? "") } == ["voter-1", "voter-2", "voter-3"])
    }

    /// `chat-nondeterministic.json` is `chat.json` with the first activity's type edited to
    /// SummarizeActivity: replaying it must fail the task as nondeterministic, naming the event.
    @Test func aDivergingHistoryFailsTheTaskAsNondeterministic() throws {
        let events = try Self.history("chat-nondeterministic")
        let secondTaskStart = try #require(events.filter { $0.eventType == .workflowTaskStarted }.dropFirst().first)
        let seen = events.filter { $0.eventID <= secondTaskStart.eventID }
        let decision = WorkflowReplayer.decide(ChatWorkflow(), events: seen)
        guard case .failTask(let nondeterministic, let message) = decision else {
            Issue.record("expected a failed task, got \(decision)")
            return
        }
        #expect(nondeterministic)
        #expect(message.contains("SummarizeActivity"))
        #expect(message.contains("ChatActivity"))
    }

    @Test func aHistoryOfAnotherWorkflowTypeIsNondeterministicOrInvalid() throws {
        // ChatWorkflow's history under OrchestrationWorkflow: the input is not an
        // OrchestrationInput, so the workflow fails with a clear message instead of guessing.
        let events = try Self.history("chat")
        let firstStart = try #require(events.first { $0.eventType == .workflowTaskStarted })
        let decision = WorkflowReplayer.decide(OrchestrationWorkflow(), events: events.filter { $0.eventID <= firstStart.eventID })
        guard case .commands(let commands) = decision, let command = commands.first else {
            Issue.record("expected a fail command, got \(decision)")
            return
        }
        #expect(command.commandType == .failWorkflowExecution)
        #expect(command.failWorkflowExecutionCommandAttributes.failure.message.contains("directive"))
    }
}
