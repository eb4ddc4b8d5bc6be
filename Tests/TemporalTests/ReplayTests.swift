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
        case nil:
            return Produced(kind: "none", id: "", type: "")
        }
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
            case .workflowExecutionCompletedEventAttributes(let a):
                byTask[a.workflowTaskCompletedEventID, default: []].append(
                    Produced(kind: "complete", id: "", type: "", result: try? JSONPayloads.decodeFirst(a.result)))
            default:
                break
            }
        }
        return byTask
    }

    /// Replays every task of `events` with `definition`; returns how many tasks were checked.
    static func replayEveryTask(_ definition: any WorkflowDefinition, _ events: [PBHistoryEvent]) throws -> Int {
        let recorded = recordedCommands(events)
        var checked = 0
        for event in events {
            guard case .workflowTaskCompletedEventAttributes(let completed) = event.attributes else { continue }
            let seen = events.filter { $0.eventID <= completed.startedEventID }
            let decision = WorkflowReplayer.decide(definition, events: seen)
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
