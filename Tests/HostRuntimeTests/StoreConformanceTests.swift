import Foundation
import HostRuntime
import PluginKit
import Testing
import TestSupport
import TokenHubCore

/// The store conformance suite: written against the ABI (named operations and their JSON),
/// not against any backend, so every store plugin runs the same checks. Each backend is a
/// library and a way to make a fresh config.
struct StoreBackend: Sendable, CustomStringConvertible {
    var library: String
    var freshConfig: @Sendable () async throws -> String
    var description: String { library }

    static let sqlite = StoreBackend(library: "SQLiteStore") {
        let path = try TestPaths.makeTemporaryDirectory("store").appendingPathComponent("tokenhub.db").path
        return #"{"path":"\#(path)"}"#
    }

    /// A fresh database on the test process's PostgreSQL server. The store's answer timeout is
    /// 30 s, not its 5 s default: these tests check what the store answers, and a CI machine
    /// running every suite at once (and other tests' `initdb`) has kept the server from answering
    /// a start within 5 s.
    static let postgres = StoreBackend(library: "PostgresStore") {
        let url = try await PostgresServer.shared().createDatabase()
        return #"{"url":"\#(url)","tls":"disable","timeout_ms":30000}"#
    }
}

@Suite("Store conformance", .serialized)
struct StoreConformanceTests {
    static let backends = [StoreBackend.sqlite, .postgres]

    func start(_ backend: StoreBackend, config: String) async throws -> StoreInstance {
        let library = try PluginLibrary.load(path: PluginResolver.path(for: backend.library, directory: TestPaths.buildProducts.path))
        return try await StoreInstance.start(library: library, name: "store", configJSON: Array(config.utf8), services: FakeServices())
    }

    func row(_ id: String, key: String = "", time: Int = 1_000, cost: Double = 0.01) -> [UInt8] {
        JSONValue.object([
            "request_id": .string(id), "time_unix_ms": .number(Double(time)), "api_key_id": .string(key), "kind": .string("chat"),
            "mode": .string("normal"), "model_id": .string("m"), "provider_id": .string("p"), "dispatcher": .string("direct"),
            "estimated_cost_usd": .number(cost), "latency_ms": .number(12), "status": .string("ok"), "error_class": .string(""),
        ]).serialized
    }

    func json(_ reply: PluginReply) throws -> JSONValue {
        #expect(reply.status == .ok, "\(reply.message)")
        return try JSONValue.parse(reply.result)
    }

    @Test("request logs: append once per request id, list newest first with filters, spend", arguments: backends)
    func requestLogs(backend: StoreBackend) async throws {
        let store = try await start(backend, config: try await backend.freshConfig())
        #expect(try json(await store.call("request_log.append", row("r1", key: "k1", time: 1000)))["stored"] == .bool(true))
        #expect(try json(await store.call("request_log.append", row("r1", key: "k1", time: 1000)))["stored"] == .bool(false),
                "the same request id logged twice is stored once")
        _ = try json(await store.call("request_log.append", row("r2", key: "k2", time: 2000, cost: 0.5)))
        _ = try json(await store.call("request_log.append", row("r3", key: "k1", time: 3000, cost: 0.25)))

        let all = try json(await store.call("request_log.list", Array(#"{"limit":10}"#.utf8)))
        #expect(all["total"] == .number(3))
        #expect(all["rows"]?.arrayValue?.compactMap { $0["request_id"]?.stringValue } == ["r3", "r2", "r1"])
        #expect(all["rows"]?.arrayValue?.first?["latency_ms"] == .number(12))
        let page = try json(await store.call("request_log.list", Array(#"{"limit":1,"offset":1}"#.utf8)))
        #expect(page["rows"]?.arrayValue?.compactMap { $0["request_id"]?.stringValue } == ["r2"])
        let filtered = try json(await store.call("request_log.list", Array(#"{"api_key_id":"k1"}"#.utf8)))
        #expect(filtered["total"] == .number(2))

        let spend = try json(await store.call("request_log.spend", Array(#"{"api_key_id":"k1","since_unix_ms":1500}"#.utf8)))
        #expect(spend["usd"] == .number(0.25))
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("request log filters: model, provider, key, status, error class and a time range, alone and together; total counts the filtered rows", arguments: backends)
    func requestLogFilters(backend: StoreBackend) async throws {
        let store = try await start(backend, config: try await backend.freshConfig())
        for (id, key, model, provider, status, errorClass, time) in [
            ("f1", "k1", "m1", "p1", "ok", "", 1000), ("f2", "k1", "m2", "p1", "error", "transient", 2000),
            ("f3", "k2", "m1", "p2", "ok", "", 3000), ("f4", "k2", "m2", "p2", "error", "rate_limited", 4000),
        ] {
            let logged = JSONValue.object([
                "request_id": .string(id), "time_unix_ms": .number(Double(time)), "api_key_id": .string(key), "model_id": .string(model),
                "provider_id": .string(provider), "dispatcher": .string("direct"), "estimated_cost_usd": .number(0.01),
                "status": .string(status), "error_class": .string(errorClass),
            ])
            _ = try json(await store.call("request_log.append", logged.serialized))
        }
        func listed(_ filter: String) async throws -> (ids: [String], total: Double?) {
            let answer = try json(await store.call("request_log.list", Array(filter.utf8)))
            return (answer["rows"]?.arrayValue?.compactMap { $0["request_id"]?.stringValue } ?? [], answer["total"]?.numberValue)
        }
        let cases: [(String, [String], Double)] = [
            (#"{"model_id":"m1"}"#, ["f3", "f1"], 2),
            (#"{"provider_id":"p2"}"#, ["f4", "f3"], 2),
            (#"{"status":"error"}"#, ["f4", "f2"], 2),
            (#"{"error_class":"rate_limited"}"#, ["f4"], 1),
            (#"{"model_id":"m2","api_key_id":"k1"}"#, ["f2"], 1),
            (#"{"since_unix_ms":2000,"until_unix_ms":4000}"#, ["f3", "f2"], 2),
            (#"{"status":"error","since_unix_ms":2000,"limit":1,"offset":1}"#, ["f2"], 2),
            (#"{"model_id":"nope"}"#, [], 0),
            (#"{"model_id":"m1","provider_id":"p1","api_key_id":"k1","status":"ok","error_class":"","since_unix_ms":1,"until_unix_ms":5000}"#, ["f1"], 1),
        ]
        for (filter, ids, total) in cases {
            let answer = try await listed(filter)
            #expect(answer.ids == ids, "\(filter)")
            #expect(answer.total == total, "\(filter)")
        }
        for (filter, field) in [(#"{"until_unix_ms":-1}"#, "until_unix_ms"), (#"{"model_id":5}"#, "model_id"), (#"{"since_unix_ms":"yesterday"}"#, "since_unix_ms")] {
            let reply = await store.call("request_log.list", Array(filter.utf8))
            #expect(reply.status == .invalidArgument && reply.message.contains(field), "\(filter): \(reply.status) \(reply.message)")
        }
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("text with an embedded NUL is stored and read back whole", arguments: backends)
    func embeddedNUL(backend: StoreBackend) async throws {
        let store = try await start(backend, config: try await backend.freshConfig())
        let model = "before\u{0}after"
        let record = JSONValue.object(["id": .string("nul"), "type": .string("echo"), "note": .string(model)])
        _ = try json(await store.call("provider.upsert", JSONValue.object(["record": record]).serialized))
        let listed = try json(await store.call("provider.list", Array("{}".utf8)))
        #expect(listed["records"]?.arrayValue?.first?["note"] == .string(model))
        _ = try json(await store.call("request_log.append", row("id\u{0}tail", key: "k\u{0}1")))
        let rows = try json(await store.call("request_log.list", Array(#"{"api_key_id":"k\u00001"}"#.utf8)))
        #expect(rows["rows"]?.arrayValue?.first?["request_id"] == .string("id\u{0}tail"))
        let other = try json(await store.call("request_log.list", Array(#"{"api_key_id":"k"}"#.utf8)))
        #expect(other["total"] == .number(0), "a NUL-truncated key matched another key")
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("batched appends store each new request id once", arguments: backends)
    func batchAppend(backend: StoreBackend) async throws {
        let store = try await start(backend, config: try await backend.freshConfig())
        let rows = ["b1", "b2", "b1"].map { try! JSONValue.parse(row($0)) }
        let first = try json(await store.call("request_log.append_batch", JSONValue.object(["rows": .array(rows)]).serialized))
        #expect(first["stored"] == .number(2), "a duplicate inside the batch is kept once")
        let again = try json(await store.call("request_log.append_batch", JSONValue.object(["rows": .array(rows)]).serialized))
        #expect(again["stored"] == .number(0))
        let bad = await store.call("request_log.append_batch", Array(#"{"rows":[{"request_id":"ok"},{"latency_ms":1}]}"#.utf8))
        #expect(bad.status == .invalidArgument)
        #expect(bad.message.contains("rows[1].request_id"), "\(bad.message)")
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("bad input and unknown operations are clear errors, never a crash", arguments: backends)
    func badInput(backend: StoreBackend) async throws {
        let store = try await start(backend, config: try await backend.freshConfig())
        let unknown = await store.call("nonsense.op", Array("{}".utf8))
        #expect(unknown.status == .notSupported)
        #expect(unknown.message.contains("nonsense.op"))
        let missingID = await store.call("request_log.append", Array(#"{"time_unix_ms":1}"#.utf8))
        #expect(missingID.status == .invalidArgument)
        #expect(missingID.message.contains("request_id"))
        let wrongType = await store.call("request_log.append", Array(#"{"request_id":"x","latency_ms":"fast"}"#.utf8))
        #expect(wrongType.status == .invalidArgument)
        #expect(wrongType.message.contains("latency_ms"))
        let notJSON = await store.call("request_log.list", Array("{".utf8))
        #expect(notJSON.status == .invalidArgument)
        let badLimit = await store.call("request_log.list", Array(#"{"limit":0}"#.utf8))
        #expect(badLimit.message.contains("limit"))
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("rows survive a restart; concurrent writers never see 'database is locked'", arguments: backends)
    func persistenceAndConcurrency(backend: StoreBackend) async throws {
        let config = try await backend.freshConfig()
        let first = try await start(backend, config: config)
        let replies = await withTaskGroup(of: PluginReply.self) { group in
            for index in 0..<500 { group.addTask { await first.call("request_log.append", self.row("c\(index)", time: index)) } }
            var all: [PluginReply] = []
            for await reply in group { all.append(reply) }
            return all
        }
        #expect(replies.allSatisfy { $0.status == .ok }, "\(replies.first { $0.status != .ok }?.message ?? "")")
        await first.stop(deadline: .now + .seconds(10))

        let second = try await start(backend, config: config)
        let listed = try json(await second.call("request_log.list", Array(#"{"limit":1}"#.utf8)))
        #expect(listed["total"] == .number(500))
        await second.stop(deadline: .now + .seconds(10))
    }

    func call(_ store: StoreInstance, _ operation: String, _ input: String) async throws -> JSONValue {
        try json(await store.call(operation, Array(input.utf8)))
    }

    @Test("rewards: one per request id, listed newest first with filters, summarised per model", arguments: backends)
    func rewards(backend: StoreBackend) async throws {
        let store = try await start(backend, config: try await backend.freshConfig())
        func reward(_ id: String, model: String, time: Int, reward: Double, success: Bool) -> String {
            #"{"request_id":"\#(id)","time_unix_ms":\#(time),"model_id":"\#(model)","provider_id":"p","mode":"normal","kind":"chat","success":\#(success),"cost_usd":0.01,"latency_ms":100,"reward":\#(reward)}"#
        }
        #expect(try await call(store, "reward.append", reward("a", model: "m1", time: 1000, reward: 0.8, success: true))["stored"] == .bool(true))
        #expect(try await call(store, "reward.append", reward("a", model: "m1", time: 1000, reward: 0.8, success: true))["stored"] == .bool(false))
        _ = try await call(store, "reward.append", reward("b", model: "m1", time: 2000, reward: 0.4, success: true))
        _ = try await call(store, "reward.append", reward("c", model: "m2", time: 3000, reward: 0, success: false))
        let all = try await call(store, "reward.list", #"{"limit":10}"#)
        #expect(all["total"] == .number(3))
        #expect(all["rows"]?.arrayValue?.compactMap { $0["request_id"]?.stringValue } == ["c", "b", "a"])
        let page = try await call(store, "reward.list", #"{"limit":1,"offset":1,"model_id":"m1"}"#)
        #expect(page["rows"]?.arrayValue?.compactMap { $0["request_id"]?.stringValue } == ["a"])
        #expect(page["total"] == .number(2))
        let summary = try await call(store, "reward.summary", #"{}"#)
        let m1 = summary["models"]?.arrayValue?.first { $0["model_id"]?.stringValue == "m1" }
        #expect(m1?["count"] == .number(2))
        #expect(abs((m1?["mean_reward"]?.numberValue ?? 0) - 0.6) < 1e-9)
        #expect(summary["models"]?.arrayValue?.first { $0["model_id"]?.stringValue == "m2" }?["success_rate"] == .number(0))
        let bad = await store.call("reward.append", Array(reward("d", model: "m1", time: 1, reward: 3, success: true).utf8))
        #expect(bad.status == .invalidArgument && bad.message.contains("reward"))
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("TSDB: append points, query in steps per model, prune by age", arguments: backends)
    func timeSeries(backend: StoreBackend) async throws {
        let store = try await start(backend, config: try await backend.freshConfig())
        var points: [String] = []
        for second in 0..<120 {
            points.append(#"{"metric":"latency_ms","model_id":"\#(second % 2 == 0 ? "m1" : "m2")","provider_id":"p","time_unix_ms":\#(second * 1000),"value":\#(second)}"#)
        }
        #expect(try await call(store, "tsdb.append_batch", #"{"points":[\#(points.joined(separator: ","))]}"#)["stored"] == .number(120))
        let minutes = try await call(store, "tsdb.query", #"{"metric":"latency_ms","start_unix_ms":0,"end_unix_ms":120000,"step_ms":60000}"#)
        let buckets = try #require(minutes["points"]?.arrayValue)
        #expect(buckets.map { $0["time_unix_ms"] } == [.number(0), .number(60000)])
        #expect(buckets.map { $0["count"] } == [.number(60), .number(60)])
        #expect(buckets.first?["avg"] == .number(29.5))
        #expect(buckets.last?["max"] == .number(119))
        let oneModel = try await call(store, "tsdb.query", #"{"metric":"latency_ms","model_id":"m1","start_unix_ms":0,"end_unix_ms":120000,"step_ms":120000}"#)
        #expect(oneModel["points"]?.arrayValue?.first?["count"] == .number(60))
        let empty = try await call(store, "tsdb.query", #"{"metric":"cost_usd","start_unix_ms":0,"end_unix_ms":120000,"step_ms":1000}"#)
        #expect(empty["points"]?.arrayValue?.isEmpty == true)
        let tooFine = await store.call("tsdb.query", Array(#"{"metric":"latency_ms","start_unix_ms":0,"end_unix_ms":100000000,"step_ms":1}"#.utf8))
        #expect(tooFine.status == .invalidArgument && tooFine.message.contains("step_ms"))
        #expect(try await call(store, "tsdb.prune", #"{"before_unix_ms":60000}"#)["deleted"] == .number(60))
        let after = try await call(store, "tsdb.query", #"{"metric":"latency_ms","start_unix_ms":0,"end_unix_ms":120000,"step_ms":120000}"#)
        #expect(after["points"]?.arrayValue?.first?["count"] == .number(60))
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("a result batch writes its log row, reward and points once, even when sent twice", arguments: backends)
    func resultBatchIsIdempotent(backend: StoreBackend) async throws {
        let store = try await start(backend, config: try await backend.freshConfig())
        let item = #"{"request_id":"r1","time_unix_ms":5000,"kind":"chat","mode":"normal","model_id":"m","provider_id":"p","dispatcher":"temporal","estimated_cost_usd":0.01,"latency_ms":50,"status":"ok","error_class":"","reward":{"request_id":"r1","time_unix_ms":5000,"model_id":"m","success":true,"reward":0.9},"points":[{"metric":"latency_ms","model_id":"m","time_unix_ms":5000,"value":50},{"metric":"errors","model_id":"m","time_unix_ms":5000,"value":0}]}"#
        #expect(try await call(store, "request_log.append_batch", #"{"rows":[\#(item)]}"#)["stored"] == .number(1))
        #expect(try await call(store, "request_log.append_batch", #"{"rows":[\#(item)]}"#)["stored"] == .number(0))
        #expect(try await call(store, "reward.list", "{}")["total"] == .number(1))
        let latency = try await call(store, "tsdb.query", #"{"metric":"latency_ms","start_unix_ms":0,"end_unix_ms":10000,"step_ms":10000}"#)
        #expect(latency["points"]?.arrayValue?.first?["count"] == .number(1))
        let bad = await store.call("request_log.append_batch", Array(#"{"rows":[{"request_id":"r2","points":[{"value":1}]}]}"#.utf8))
        #expect(bad.status == .invalidArgument && bad.message.contains("rows[0].points"), "\(bad.message)")
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("SQLite: log appends wait for the commit window, an admin write closes it, stop flushes it")
    func sqliteCommitWindow() async throws {
        let path = try TestPaths.makeTemporaryDirectory("store").appendingPathComponent("tokenhub.db").path
        let config = #"{"path":"\#(path)","commit_window_ms":1000}"#
        let store = try await start(.sqlite, config: config)

        let clock = ContinuousClock()
        let alone = try await clock.measure {
            _ = try json(await store.call("request_log.append", row("held-alone")))
        }
        #expect(alone >= .milliseconds(900), "a lone append is held for company up to the window (took \(alone))")

        // An append waiting in the window, then an API key write: the key must not wait for
        // the window, and the held append commits with it.
        let started = clock.now
        let held = Task { await store.call("request_log.append", self.row("held-with-admin")) }
        try await Task.sleep(for: .milliseconds(100))
        let key = #"{"id":"k1","name":"n","key_hash":"h1","key_prefix":"p","scopes":[],"enabled":true}"#
        _ = try json(await store.call("apikey.create", Array(key.utf8)))
        _ = try json(await held.value)
        #expect(clock.now - started < .milliseconds(900), "the admin write closed the window (took \(clock.now - started))")

        // Stop while an append waits: it is committed before the store closes.
        let pending = Task { await store.call("request_log.append", self.row("held-at-stop")) }
        try await Task.sleep(for: .milliseconds(100))
        await store.stop(deadline: .now + .seconds(10))
        #expect(await pending.value.status == .ok)

        let reopened = try await start(.sqlite, config: config)
        let listed = try await call(reopened, "request_log.list", "{}")
        #expect(Set(listed["rows"]?.arrayValue?.compactMap { $0["request_id"]?.stringValue } ?? [])
                == ["held-alone", "held-with-admin", "held-at-stop"])
        let bad = try? await start(.sqlite, config: #"{"path":"\#(path)","commit_window_ms":5000}"#)
        #expect(bad == nil, "a window over 1000 ms is refused")
        await reopened.stop(deadline: .now + .seconds(10))
    }

    @Test("SQLite: an unusable database path is a startup error naming the path")
    func sqliteStartupErrors() async throws {
        let directory = try TestPaths.makeTemporaryDirectory("store")
        let corrupt = directory.appendingPathComponent("corrupt.db").path
        try String(repeating: "not a database ", count: 100).write(toFile: corrupt, atomically: true, encoding: .utf8)
        do {
            _ = try await start(.sqlite, config: #"{"path":"\#(corrupt)"}"#)
            Issue.record("a corrupt file must not start")
        } catch let error as PluginLoadError {
            #expect(error.code == .startFailed)
            #expect(error.detail.contains(corrupt), "\(error.detail)")
        }
        do {
            _ = try await start(.sqlite, config: #"{"path":"/nonexistent/dir/x.db"}"#)
            Issue.record("a missing directory must not start")
        } catch let error as PluginLoadError {
            #expect(error.code == .createFailed)
            #expect(error.detail.contains("config.path: directory /nonexistent/dir does not exist"))
        }
        do {
            _ = try await start(.sqlite, config: #"{"path":"x.db","journal":"fast"}"#)
            Issue.record("an unknown key must not start")
        } catch let error as PluginLoadError {
            #expect(error.detail.contains("config.journal: unknown key"))
        }
    }
}
