import Foundation
import Testing
import TestSupport
import TokenHubCore

/// TemporalDispatch against a real Temporal server (`temporal server start-dev`), checked
/// with the real `temporal` CLI and the real `sqlite3` CLI.
@Suite("Temporal dispatch on a real server", .serialized)
struct TemporalIntegrationTests {
    /// A tokenhub config: TemporalDispatch first, DirectDispatch as the fallback, the SQLite
    /// store, the echo model and optionally a mock provider.
    static func config(_ temporal: TemporalDevServer, database: String, mock: MockUpstream? = nil, models: String = "") throws -> String {
        try writeConfig("""
        dispatch:
          chain:
            - plugin: TemporalDispatch
              config: {breaker_open_seconds: 1, breaker_failures: 3}
            - DirectDispatch
        store:
          plugin: SQLiteStore
          config: {path: \(database)}
        temporal:
          enabled: true
          host: \(temporal.address)
          namespace: \(temporal.namespace)
          task_queue: tokenhub-test
        providers:
          - id: echo
            type: echo
        \(mock.map { "  - {id: mock, type: openai, base_url: \($0.openAIBaseURL), api_key: sk-test}" } ?? "")
        models:
        \(models.isEmpty ? "  - {id: echo-1, provider: echo, weight: 5, max_context_tokens: 32768, input_price_per_1k: 0, output_price_per_1k: 0}" : models)
        """)
    }

    static func database() throws -> String {
        try TestPaths.makeTemporaryDirectory("temporal-it").appendingPathComponent("tokenhub.db").path
    }

    /// The assistant text of a `/v1/chat` answer.
    static func content(_ answer: HTTPTestClient.Answer) -> String? {
        answer.json?["response"]?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
    }

    func sqlite(_ database: String, _ query: String) async throws -> String {
        let result = try await Subprocess.running("/usr/bin/env", ["sqlite3", database, query])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls `query` until it prints `expected` (log rows are written in batches).
    func waitForSQLite(_ database: String, _ query: String, equals expected: String, timeout: Double = 10) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = (try? await sqlite(database, query)) ?? ""
            if last == expected { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    /// The workflows the CLI lists for a visibility query.
    func listed(_ temporal: TemporalDevServer, _ query: String) throws -> [JSONValue] {
        let text = try temporal.workflowJSON(["list", "--query", query])
        return (try? JSONValue.parse(text))?.arrayValue ?? []
    }

    func waitForStatus(_ temporal: TemporalDevServer, workflowID: String, _ status: String, timeout: Double) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            let text = (try? temporal.workflowJSON(["describe", "--workflow-id", workflowID])) ?? ""
            last = (try? JSONValue.parse(text))?["workflowExecutionInfo"]?["status"]?.stringValue ?? ""
            if last.hasSuffix(status) { return last }
            try await Task.sleep(for: .milliseconds(250))
        }
        return last
    }

    @Test("a chat runs as ChatWorkflow: ChatActivity then LogResultActivity (local attempts), readable JSON in the CLI, one log row")
    func chatWorkflow() async throws {
        let temporal = try TemporalDevServer()
        let database = try Self.database()
        let server = try await RunningTokenhub.start(configPath: try Self.config(temporal, database: database), environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)

        let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"hello temporal"}]}}"#)
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
        let json = try #require(answer.json)
        #expect(json["dispatcher"]?.stringValue == "temporal")
        #expect(json["response"]?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == "hello temporal")
        let requestID = try #require(json["request_id"]?.stringValue)
        let workflowID = "chat-\(requestID)"
        // The bus carries the workflow's start and completion (from its ring, since event 0).
        let busEvents = try await frames(server, "/admin/v1/events?types=workflow_started,workflow_completed", lastEventID: "0") { frames in
            frames.contains { $0["event"] == "workflow_completed" }
        }.compactMap { $0["data"].flatMap { try? JSONValue.parse(Array($0.utf8)) } }
        let workflowEvents = busEvents.filter { $0["workflow_id"]?.stringValue == workflowID && $0["request_id"]?.stringValue == requestID }
        #expect(workflowEvents.map { $0["type"]?.stringValue } == ["workflow_started", "workflow_completed"], "\(busEvents)")
        #expect(workflowEvents.last?["workflow_type"]?.stringValue == "ChatWorkflow")
        #expect(workflowEvents.last?["plugin"]?.stringValue == "temporal")

        let listed = try listed(temporal, "WorkflowId=\"\(workflowID)\"")
        #expect(listed.count == 1)
        #expect(listed.first?["status"]?.stringValue == "WORKFLOW_EXECUTION_STATUS_COMPLETED")
        let history = try temporal.workflowJSON(["show", "--workflow-id", workflowID])
        // A prompt answer runs both steps inside the first workflow task: two LocalActivity
        // markers, no activity task on the queue.
        #expect(history.components(separatedBy: "\"LocalActivity\"").count - 1 == 2, "\(history)")
        #expect(!history.contains("ActivityTaskScheduled") && !history.contains("ACTIVITY_TASK_SCHEDULED"))
        // The plain `show` prints the result as readable JSON (json/plain payloads).
        let shown = try temporal.cli(["workflow", "show", "--workflow-id", workflowID, "--namespace", temporal.namespace])
        #expect(shown.stdout.contains(#""content":"hello temporal""#), "\(shown.stdout)")
        #expect(shown.stdout.contains("json/plain"))

        #expect(try await waitForSQLite(database, "SELECT COUNT(*), dispatcher, status FROM request_logs WHERE request_id = '\(requestID)'",
                                        equals: "1|temporal|ok") == "1|temporal|ok")

        // The admin API reads the same history.
        let events = try await client.get("/admin/v1/workflows/\(workflowID)/history")
        let activityTypes = events.json?["events"]?.arrayValue?.compactMap { $0["activity_type"]?.stringValue }
        #expect(activityTypes == ["ChatActivity", "LogResultActivity"])
        let described = try await client.get("/admin/v1/workflows/\(workflowID)")
        #expect(described.json?["status"]?.stringValue == "COMPLETED")
        let running = try await client.get("/admin/v1/workflows?status=COMPLETED&limit=5")
        #expect(running.json?["workflows"]?.arrayValue?.contains { $0["workflow_id"]?.stringValue == workflowID } == true)
        #expect(await server.stopped() == 0)
        #expect(try await sqlite(database, "SELECT COUNT(*) FROM request_logs") == "1")
    }

    @Test("every orchestration mode runs as OrchestrationWorkflow with a child ChatWorkflow per model call")
    func orchestrationWorkflows() async throws {
        let temporal = try TemporalDevServer()
        let database = try Self.database()
        let server = try await RunningTokenhub.start(configPath: try Self.config(temporal, database: database), environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        let expectedChildren = ["planning": 1, "adversarial": 3, "vote": 4, "refine": 3]
        for (mode, children) in expectedChildren.sorted(by: { $0.key < $1.key }) {
            let answer = try await client.post("/v1/plan", body: #"{"request":{"messages":[{"role":"user","content":"plan a trip"}]},"orchestration":{"mode":"\#(mode)"}}"#)
            #expect(answer.status == 200, "\(mode): \(String(decoding: answer.body, as: UTF8.self))")
            let json = try #require(answer.json)
            #expect(json["dispatcher"]?.stringValue == "temporal", "\(mode)")
            let requestID = try #require(json["request_id"]?.stringValue)
            let parent = try listed(temporal, "WorkflowId=\"plan-\(requestID)\" AND WorkflowType=\"OrchestrationWorkflow\"")
            #expect(parent.first?["status"]?.stringValue == "WORKFLOW_EXECUTION_STATUS_COMPLETED", "\(mode)")
            let childRuns = try listed(temporal, "ParentWorkflowId=\"plan-\(requestID)\"")
            #expect(childRuns.count == children, "\(mode)")
            #expect(childRuns.allSatisfy { $0["type"]?["name"]?.stringValue == "ChatWorkflow" })
            switch mode {
            case "vote": #expect(json["responses"]?.arrayValue?.count == 3)
            case "adversarial": #expect(json["refined_plan"]?.stringValue?.isEmpty == false)
            case "refine": #expect(json["iterations"] == .number(2))
            default: #expect(json["plan"]?.stringValue == "plan a trip")
            }
            // The plan is logged once; its steps are not logged on their own.
            #expect(try await waitForSQLite(database, "SELECT COUNT(*), kind, mode FROM request_logs WHERE request_id LIKE '\(requestID)%'",
                                            equals: "1|plan|\(mode)") == "1|plan|\(mode)")
        }
        await server.stopped()
    }

    @Test("a workflow started by the temporal CLI is run by our worker and its result read back by the CLI")
    func workflowStartedByAnotherClient() async throws {
        let temporal = try TemporalDevServer()
        let database = try Self.database()
        let server = try await RunningTokenhub.start(configPath: try Self.config(temporal, database: database), environment: adminEnvironment)
        let input = #"{"request_id":"cli-1","request":{"messages":[{"role":"user","content":"from the cli"}]}}"#
        let started = try temporal.cli(["workflow", "start", "--type", "ChatWorkflow", "--task-queue", "tokenhub-test",
                                        "--workflow-id", "cli-started-1", "--input", input, "--namespace", temporal.namespace])
        #expect(started.status == 0, "\(started.stderr)")
        let result = try temporal.cli(["workflow", "result", "--workflow-id", "cli-started-1", "--namespace", temporal.namespace, "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("from the cli"), "\(result.stdout)")
        #expect(try await waitForSQLite(database, "SELECT COUNT(*) FROM request_logs WHERE request_id = 'cli-1'", equals: "1") == "1")
        await server.stopped()
    }

    @Test("a provider error inside a workflow is the answer: one provider call, no fallback re-run, breaker unchanged")
    func providerErrorInsideWorkflow() async throws {
        let temporal = try TemporalDevServer()
        let mock = try await MockUpstream()
        mock.script("broken-mock", Array(repeating: .status(400, body: #"{"error":{"message":"bad request from the provider","type":"invalid_request_error"}}"#), count: 4))
        let database = try Self.database()
        let models = "  - {id: broken-mock, provider: mock, weight: 5, max_context_tokens: 32768, input_price_per_1k: 0.001, output_price_per_1k: 0.001}"
        let server = try await RunningTokenhub.start(configPath: try Self.config(temporal, database: database, mock: mock, models: models), environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        for attempt in 1...4 {
            let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"fail please"}]}}"#)
            #expect(answer.status == 502, "\(String(decoding: answer.body, as: UTF8.self))")
            #expect(mock.callCount("broken-mock") == attempt, "one provider call per request: the fallback never re-runs it")
        }
        #expect(try await waitForSQLite(database, "SELECT COUNT(*), MIN(dispatcher), MIN(status) FROM request_logs", equals: "4|temporal|error")
                == "4|temporal|error")
        #expect(!server.log.contains("circuit open"), "provider errors never trip the breaker")
        let failedWorkflows = try listed(temporal, "ExecutionStatus=\"Failed\"")
        #expect(failedWorkflows.isEmpty, "the workflow completes with the error as its result")
        await server.stopped()
        mock.stop()
    }

    @Test("a repeated Idempotency-Key attaches to the first workflow: one workflow, one provider call, same answer")
    func idempotencyKey() async throws {
        let temporal = try TemporalDevServer()
        let mock = try await MockUpstream()
        mock.script("answer-mock", [.text("the one answer"), .text("a second answer that must never be produced")])
        let database = try Self.database()
        let models = "  - {id: answer-mock, provider: mock, weight: 5, max_context_tokens: 32768, input_price_per_1k: 0.001, output_price_per_1k: 0.001}"
        let server = try await RunningTokenhub.start(configPath: try Self.config(temporal, database: database, mock: mock, models: models), environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        let body = #"{"request":{"messages":[{"role":"user","content":"once"}]}}"#
        let first = try await client.post("/v1/chat", body: body, headers: ["Idempotency-Key": "order-42"])
        let second = try await client.post("/v1/chat", body: body, headers: ["Idempotency-Key": "order-42"])
        #expect(first.status == 200 && second.status == 200)
        let content = { (answer: HTTPTestClient.Answer) in answer.json?["response"]?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue }
        #expect(content(first) == "the one answer")
        #expect(content(second) == "the one answer")
        #expect(mock.callCount("answer-mock") == 1)
        #expect(try listed(temporal, "WorkflowType=\"ChatWorkflow\"").count == 1)
        let bad = try await client.post("/v1/chat", body: body, headers: ["Idempotency-Key": String(repeating: "k", count: 300)])
        #expect(bad.status == 400)
        await server.stopped()
        mock.stop()
    }

    @Test("Temporal stopped while requests flow: every request succeeds through the fallback, the breaker opens; restarted: it closes")
    func outageAndRecovery() async throws {
        let temporal = try TemporalDevServer()
        let database = try Self.database()
        let server = try await RunningTokenhub.start(configPath: try Self.config(temporal, database: database), environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        let body = #"{"request":{"messages":[{"role":"user","content":"keep going"}]}}"#
        let before = try await client.post("/v1/chat", body: body)
        #expect(before.json?["dispatcher"]?.stringValue == "temporal")

        // Requests keep flowing while the server dies under them.
        let flow = Task {
            var answers: [HTTPTestClient.Answer] = []
            for _ in 0..<30 {
                answers.append(try await client.post("/v1/chat", body: body))
                try await Task.sleep(for: .milliseconds(50))
            }
            return answers
        }
        try await Task.sleep(for: .milliseconds(300))
        temporal.kill()
        let answers = try await flow.value
        #expect(answers.allSatisfy { $0.status == 200 }, "\(answers.map(\.status))")
        #expect(answers.allSatisfy { $0.json?["response"]?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == "keep going" })
        #expect(answers.contains { $0.json?["dispatcher"]?.stringValue == "direct" })
        #expect(server.log.contains("circuit open"), "\(server.log.suffix(2000))")

        try temporal.start()
        var recovered = false
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !recovered {
            let answer = try await client.post("/v1/chat", body: body)
            #expect(answer.status == 200)
            recovered = answer.json?["dispatcher"]?.stringValue == "temporal"
            if !recovered { try await Task.sleep(for: .milliseconds(300)) }
        }
        #expect(recovered, "workflows run again once the server is back")
        #expect(server.log.contains("circuit closed"))
        // The outage on the bus, in order: fallbacks, the breaker opening, and closing again.
        let outage = try await frames(server, "/admin/v1/events?types=temporal_fallback,breaker_opened,breaker_closed", lastEventID: "0") { frames in
            frames.contains { $0["event"] == "breaker_closed" }
        }.compactMap { $0["event"] }
        let opened = try #require(outage.firstIndex(of: "breaker_opened"), "\(outage)")
        #expect(outage.contains("temporal_fallback"), "\(outage)")
        #expect(outage.last == "breaker_closed" && outage.firstIndex(of: "breaker_closed")! > opened, "\(outage)")
        await server.stopped()
        // Every request was logged exactly once, whichever path served it.
        #expect(try await sqlite(database, "SELECT COUNT(*) = COUNT(DISTINCT request_id) FROM request_logs") == "1")
    }

    @Test("a provider call longer than its local budget becomes a heartbeating activity: one provider call, one log row")
    func slowCallEscalatesToAnActivity() async throws {
        let temporal = try TemporalDevServer()
        let mock = try await MockUpstream()
        let delayMs = 5500 // past Activities.chatLocalBudget (4 s)
        mock.script("slow-mock", [.text("slow answer", delayMs: delayMs), .text("second call", delayMs: 0)])
        let database = try Self.database()
        let models = "  - {id: slow-mock, provider: mock, weight: 5, max_context_tokens: 32768, input_price_per_1k: 0.001, output_price_per_1k: 0.001}"
        let server = try await RunningTokenhub.start(configPath: try Self.config(temporal, database: database, mock: mock, models: models), environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)

        let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"slow"}]}}"#)
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(Self.content(answer) == "slow answer")
        #expect(answer.json?["dispatcher"]?.stringValue == "temporal")
        #expect(mock.callCount("slow-mock") == 1)
        let requestID = try #require(answer.json?["request_id"]?.stringValue)
        let events = try await client.get("/admin/v1/workflows/chat-\(requestID)/history")
        let rows = events.json?["events"]?.arrayValue ?? []
        // The escalated call is a scheduled ChatActivity; the log step still ran locally.
        #expect(rows.contains { $0["type"]?.stringValue == "ACTIVITY_TASK_SCHEDULED" && $0["activity_type"]?.stringValue == "ChatActivity" })
        #expect(rows.contains { $0["type"]?.stringValue == "MARKER_RECORDED" && $0["activity_type"]?.stringValue == "LogResultActivity" })
        // The first task reported the escalation at the budget, not when the call ended
        // (a task waiting for the call would miss its timeout on calls over 10 s).
        let times = rows.compactMap { row -> (String, Date)? in
            guard let type = row["type"]?.stringValue, let text = row["time"]?.stringValue,
                  let time = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
            else { return nil }
            return (type, time)
        }
        let started = try #require(times.first { $0.0 == "WORKFLOW_EXECUTION_STARTED" }?.1)
        let firstReport = try #require(times.first { $0.0 == "WORKFLOW_TASK_COMPLETED" }?.1)
        #expect(firstReport.timeIntervalSince(started) < 5.0, "first task reported after \(firstReport.timeIntervalSince(started)) s")
        #expect(try await waitForSQLite(database, "SELECT COUNT(*), dispatcher, status FROM request_logs", equals: "1|temporal|ok") == "1|temporal|ok")
        await server.stopped()
        mock.stop()
    }

    @Test("kill -9 of tokenhub while a workflow waits on a slow provider: restarted, the workflow completes with one log row")
    func crashWhileWorkflowRuns() async throws {
        let temporal = try TemporalDevServer()
        let mock = try await MockUpstream()
        mock.script("slow-mock", [.text("slow answer", delayMs: 3000), .text("slow answer", delayMs: 3000)])
        let database = try Self.database()
        let models = "  - {id: slow-mock, provider: mock, weight: 5, max_context_tokens: 32768, input_price_per_1k: 0.001, output_price_per_1k: 0.001}"
        let config = try Self.config(temporal, database: database, mock: mock, models: models)
        let first = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let client = HTTPTestClient.admin(first.baseURL)
        let pending = Task { try? await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"slow"}]}}"#,
                                                    headers: ["Idempotency-Key": "crash-1"]) }
        let deadline = Date().addingTimeInterval(10)
        while mock.callCount("slow-mock") == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(mock.callCount("slow-mock") == 1)
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        _ = await pending.value

        let second = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let status = try await waitForStatus(temporal, workflowID: "chat--crash-1", "COMPLETED", timeout: 45)
        #expect(status.hasSuffix("COMPLETED"))
        let result = try temporal.cli(["workflow", "result", "--workflow-id", "chat--crash-1", "--namespace", temporal.namespace, "--output", "json"])
        #expect(result.stdout.contains("slow answer"))
        #expect(try await waitForSQLite(database, "SELECT COUNT(*) FROM request_logs", equals: "1") == "1")
        second.stop()
        #expect(try await sqlite(database, "SELECT COUNT(*), dispatcher, status FROM request_logs") == "1|temporal|ok")
        mock.stop()
    }
}

