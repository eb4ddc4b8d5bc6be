import Foundation
import Testing
import TestSupport
import TokenHubCore

extension TemporalIntegrationTests {
    @Test("two instances sharing PostgreSQL and Temporal: kill -9 of A mid-request, the workflow completes on B's worker with exactly one log row")
    func killedInstanceFinishesOnAnother() async throws {
        let temporal = try TemporalDevServer()
        let mock = try await MockUpstream()
        mock.script("slow-mock", [.text("slow answer", delayMs: 3000), .text("slow answer", delayMs: 3000)])
        let postgres = try await PostgresServer.shared()
        let url = try await postgres.createDatabase("workflows")
        let config = try writeConfig("""
        dispatch:
          chain:
            - plugin: TemporalDispatch
              config: {breaker_open_seconds: 1, breaker_failures: 3}
            - DirectDispatch
        store:
          plugin: PostgresStore
          config: {url: "\(url)", tls: disable}
        temporal:
          enabled: true
          host: \(temporal.address)
          namespace: \(temporal.namespace)
          task_queue: tokenhub-shared
        providers:
          - {id: mock, type: openai, base_url: \(mock.openAIBaseURL), api_key: sk-test}
        models:
          - {id: slow-mock, provider: mock, weight: 5, max_context_tokens: 32768, input_price_per_1k: 0.001, output_price_per_1k: 0.001}
        """)
        let a = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let b = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let client = HTTPTestClient.admin(a.baseURL)
        let pending = Task { try? await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"slow"}]}}"#,
                                                    headers: ["Idempotency-Key": "shared-1"]) }
        let deadline = Date().addingTimeInterval(10)
        while mock.callCount("slow-mock") == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(mock.callCount("slow-mock") >= 1)
        kill(a.process.processIdentifier, SIGKILL)
        a.process.waitUntilExit()
        _ = await pending.value

        // B was running all along: its worker takes the workflow over once A's activity times out.
        let status = try await waitForStatus(temporal, workflowID: "chat--shared-1", "COMPLETED", timeout: 60)
        #expect(status.hasSuffix("COMPLETED"))
        let database = String(url.split(separator: "/").last!)
        var rows = ""
        let clock = ContinuousClock(), start = clock.now
        while clock.now - start < .seconds(15) {
            rows = try await postgres.psql(database, "SELECT COUNT(*), MIN(dispatcher), MIN(status) FROM request_logs").stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if rows.hasPrefix("1|") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(await b.stopped() == 0)
        let final = try await postgres.psql(database, "SELECT COUNT(*), MIN(dispatcher), MIN(status) FROM request_logs").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(final == "1|temporal|ok", "exactly one row, written by the workflow's log activity: \(final)")
        mock.stop()
    }
}
