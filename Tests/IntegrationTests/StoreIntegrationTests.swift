import Foundation
import Testing
import TestSupport
import TokenHubCore

/// The SQLite store behind a running `tokenhub serve`, inspected with the real `sqlite3` CLI.
@Suite("SQLite store through tokenhub serve", .serialized)
struct StoreIntegrationTests {
    func sqlite(_ database: String, _ query: String) async throws -> String {
        let result = try await Subprocess.running("/usr/bin/env", ["sqlite3", database, query])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A fresh database path and a config using it: DirectDispatch, SQLiteStore, `registry`
    /// (providers and models; the echo registry unless given), plus `extra` top-level YAML.
    static func storeConfig(extra: String = "", registry: String = echoRegistryYAML) throws -> (database: String, config: String) {
        let database = try TestPaths.makeTemporaryDirectory("store-it").appendingPathComponent("tokenhub.db").path
        let config = try writeConfig("""
        dispatch:
          chain: [DirectDispatch]
        store:
          plugin: SQLiteStore
          config: {path: \(database)}
        \(extra)\(registry)
        """)
        return (database, config)
    }

    @Test("every chat, completion, stream and plan writes exactly one request log row, kept across restarts")
    func requestLogRows() async throws {
        let (database, config) = try Self.storeConfig()
        var server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        var client = HTTPTestClient.admin(server.baseURL)
        let chat = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"log me"}]},"policy":{"mode":"cheap"}}"#)
        let chatID = try #require(chat.json?["request_id"]?.stringValue)
        let completion = try await client.post("/v1/chat/completions", body: #"{"model":"echo-1","messages":[{"role":"user","content":"x"}]}"#)
        let completionID = try #require(completion.header("X-Request-ID"))
        let stream = try await client.post("/v1/chat/completions", body: #"{"model":"echo-1","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        let streamID = try #require(stream.header("X-Request-ID"))
        let plan = try await client.post("/v1/plan", body: #"{"request":{"messages":[{"role":"user","content":"p"}]},"orchestration":{"mode":"refine","iterations":1}}"#)
        let planID = try #require(plan.json?["request_id"]?.stringValue)
        #expect(await server.stopped() == 0, "a graceful stop flushes the store")

        #expect(try await sqlite(database, "SELECT COUNT(*) FROM request_logs") == "4")
        #expect(try await sqlite(database, "SELECT kind, mode, model_id, dispatcher, status FROM request_logs WHERE request_id = '\(chatID)'")
                == "chat|cheap|echo-1|direct|ok")
        #expect(try await sqlite(database, "SELECT COUNT(*) FROM request_logs WHERE request_id = '\(completionID)'") == "1")
        #expect(try await sqlite(database, "SELECT dispatcher FROM request_logs WHERE request_id = '\(streamID)'") == "stream")
        #expect(try await sqlite(database, "SELECT kind, mode FROM request_logs WHERE request_id = '\(planID)'") == "plan|refine")

        server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        client = HTTPTestClient.admin(server.baseURL)
        _ = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"again"}]}}"#)
        await server.stopped()
        #expect(try await sqlite(database, "SELECT COUNT(*) FROM request_logs") == "5", "rows survive a restart")
    }

    @Test("each request writes a reward entry and TSDB points, read back through /admin/v1/rewards and /admin/v1/tsdb/query")
    func rewardsAndTimeSeries() async throws {
        let (database, config) = try Self.storeConfig()
        let server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        for _ in 0..<3 {
            let chat = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"score me"}]}}"#)
            #expect(chat.status == 200)
        }
        var rewards = try await client.get("/admin/v1/rewards?limit=10")
        for _ in 0..<50 where rewards.json?["total"] != .number(3) {
            try await Task.sleep(for: .milliseconds(100))
            rewards = try await client.get("/admin/v1/rewards?limit=10")
        }
        #expect(rewards.json?["total"] == .number(3))
        let first = try #require(rewards.json?["rows"]?.arrayValue?.first)
        #expect(first["success"] == .bool(true) && first["model_id"]?.stringValue == "echo-1")
        #expect((first["reward"]?.numberValue ?? 0) > 0.9, "a free, instant answer scores near 1")
        let summary = try await client.get("/admin/v1/rewards/summary?model=echo-1")
        #expect(summary.json?["models"]?.arrayValue?.first?["count"] == .number(3))

        let now = Int(Date().timeIntervalSince1970 * 1000)
        let series = try await client.get("/admin/v1/tsdb/query?metric=latency_ms&model=echo-1&start=\(now - 600_000)&end=\(now + 1000)&step=10m")
        #expect(series.status == 200)
        let counts = series.json?["points"]?.arrayValue?.compactMap { $0["count"]?.numberValue } ?? []
        #expect(counts.reduce(0, +) == 3)
        let tokens = try await client.get("/admin/v1/tsdb/query?metric=tokens")
        #expect((tokens.json?["points"]?.arrayValue?.first?["sum"]?.numberValue ?? 0) > 0, "echo answers carry usage")
        let badStep = try await client.get("/admin/v1/tsdb/query?metric=latency_ms&step=soon")
        #expect(badStep.status == 400 && String(decoding: badStep.body, as: UTF8.self).contains("step"))
        let noMetric = try await client.get("/admin/v1/tsdb/query")
        #expect(noMetric.status == 400)
        await server.stopped()
        #expect(try await sqlite(database, "SELECT COUNT(*) FROM rewards") == "3")
    }

    @Test("TSDB points older than retention.tsdb_days are pruned at start; newer ones stay")
    func timeSeriesRetention() async throws {
        let (database, config) = try Self.storeConfig(extra: "retention:\n  tsdb_days: 7\n")
        var server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        await server.stopped()
        let now = Int(Date().timeIntervalSince1970 * 1000)
        let old = now - 8 * 86_400_000, recent = now - 86_400_000
        _ = try await sqlite(database, "INSERT INTO tsdb_points VALUES ('latency_ms','m','p',\(old),1), ('latency_ms','m','p',\(recent),2)")
        server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        var remaining = ""
        for _ in 0..<50 {
            remaining = try await sqlite(database, "SELECT group_concat(value) FROM tsdb_points")
            if remaining == "2.0" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(remaining == "2.0", "only the point inside 7 days is left")
        await server.stopped()
        let bad = try writeConfig("retention:\n  tsdb_days: -1\n")
        let check = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", bad])
        #expect(check.status == 1)
        #expect(check.stderr.contains("retention.tsdb_days"), "\(check.stderr)")
    }

    @Test("an unusable database path stops tokenhub at startup with the path in the error")
    func badDatabase() async throws {
        let directory = try TestPaths.makeTemporaryDirectory("store-it")
        let corrupt = directory.appendingPathComponent("corrupt.db").path
        try String(repeating: "garbage ", count: 200).write(toFile: corrupt, atomically: true, encoding: .utf8)
        let config = try writeConfig("store:\n  plugin: SQLiteStore\n  config: {path: \(corrupt)}\n")
        let result = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("start failed"), "\(result.stderr)")
        #expect(result.stderr.contains(corrupt))
    }
}
