import Foundation
import HostRuntime
import PluginKit
import Testing
import TestSupport
import TokenHubCore

/// The store operations several instances rely on (budget holds, the revision counter), the
/// copy operations behind `tokenhub store copy`, and upgrades from the first schema: run on
/// every backend, like the conformance suite.
@Suite("Store shared state, copy and migrations", .serialized)
struct StoreSharedStateTests {
    let suite = StoreConformanceTests()

    func call(_ store: StoreInstance, _ operation: String, _ input: JSONValue) async throws -> JSONValue {
        try suite.json(await store.call(operation, input.serialized))
    }

    func hold(_ id: String, key: String = "k", budget: Double = 1, estimate: Double, now: Int = 10_000, expires: Int = 20_000) -> JSONValue {
        .object(["request_id": .string(id), "api_key_id": .string(key), "budget_usd": .number(budget), "estimate_usd": .number(estimate),
                 "since_unix_ms": .number(0), "now_unix_ms": .number(Double(now)), "expires_unix_ms": .number(Double(expires))])
    }

    @Test("budget holds: admitted while spend plus other holds is under the budget; a log row settles its hold; release and expiry free it",
          arguments: StoreConformanceTests.backends)
    func budgetHolds(backend: StoreBackend) async throws {
        let store = try await suite.start(backend, config: try await backend.freshConfig())
        for id in ["r1", "r2", "r3"] {
            #expect(try await call(store, "budget.reserve", hold(id, estimate: 0.4))["admitted"] == .bool(true), "\(id)")
        }
        let refused = try await call(store, "budget.reserve", hold("r4", estimate: 0.4))
        #expect(refused["admitted"] == .bool(false))
        #expect(refused["reserved_usd"]?.numberValue.map { abs($0 - 1.2) < 1e-9 } == true, "\(refused)")
        // r1's row (cost 0.3) replaces its hold: 0.3 spent + 0.8 held is still over.
        _ = try suite.json(await store.call("request_log.append", suite.row("r1", key: "k", time: 5_000, cost: 0.3)))
        let settled = try await call(store, "budget.reserve", hold("r4", estimate: 0.4))
        #expect(settled["admitted"] == .bool(false))
        #expect(settled["spent_usd"] == .number(0.3))
        #expect(try await call(store, "budget.release", .object(["request_id": .string("r2")]))["released"] == .bool(true))
        #expect(try await call(store, "budget.reserve", hold("r4", estimate: 0.4))["admitted"] == .bool(true), "0.3 spent + 0.4 held before r4: under 1")
        // Holds past their expiry no longer count.
        #expect(try await call(store, "budget.reserve", hold("r5", estimate: 0.4, now: 30_000, expires: 40_000))["admitted"] == .bool(true))
        let bad = await store.call("budget.reserve", hold("r6", budget: 0, estimate: 0.1).serialized)
        #expect(bad.status == .invalidArgument && bad.message.contains("budget_usd"), "\(bad.message)")
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("concurrent holds on one key never admit more than the budget allows", arguments: StoreConformanceTests.backends)
    func concurrentHolds(backend: StoreBackend) async throws {
        let store = try await suite.start(backend, config: try await backend.freshConfig())
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<50 {
                group.addTask {
                    let reply = await store.call("budget.reserve", self.hold("c\(index)", estimate: 0.125).serialized)
                    return (try? JSONValue.parse(reply.result))?["admitted"] == .bool(true)
                }
            }
            var count = 0
            for await ok in group where ok { count += 1 }
            return count
        }
        #expect(admitted == 8, "holds of 0.125 on a budget of 1: exactly 8 admitted, got \(admitted)")
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("the revision counts key, registry and settings changes, not log rows", arguments: StoreConformanceTests.backends)
    func revision(backend: StoreBackend) async throws {
        let store = try await suite.start(backend, config: try await backend.freshConfig())
        func revision() async throws -> Double { try await call(store, "store.revision", .object([:]))["revision"]?.numberValue ?? -1 }
        let start = try await revision()
        _ = try suite.json(await store.call("request_log.append", suite.row("x")))
        #expect(try await revision() == start)
        let key = #"{"id":"k1","name":"n","key_hash":"h1","key_prefix":"p","scopes":[],"enabled":true}"#
        _ = try suite.json(await store.call("apikey.create", Array(key.utf8)))
        let afterKey = try await revision()
        #expect(afterKey > start)
        _ = try await call(store, "provider.upsert", .object(["record": .object(["id": .string("p1")])]))
        #expect(try await revision() > afterKey)
        await store.stop(deadline: .now + .seconds(10))
    }

    @Test("a database of schema version 1 migrates to the current version with its rows", arguments: StoreConformanceTests.backends)
    func migratesFromFirstSchema(backend: StoreBackend) async throws {
        let config: String
        if backend.library == "SQLiteStore" {
            let path = try TestPaths.makeTemporaryDirectory("store-v1").appendingPathComponent("old.db").path
            let fixture = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/StoreSchemas/sqlite-v1.sql").path
            let created = try await Subprocess.running("/usr/bin/env", ["sqlite3", path, ".read \(fixture)"])
            #expect(created.status == 0, "\(created.stderr)")
            config = #"{"path":"\#(path)"}"#
        } else {
            let server = try await PostgresServer.shared()
            let url = try await server.createDatabase("old")
            let fixture = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/StoreSchemas/postgres-v1.sql"), encoding: .utf8)
            let created = try await server.psql(String(url.split(separator: "/").last!), fixture)
            #expect(created.status == 0, "\(created.stderr)")
            config = #"{"url":"\#(url)","tls":"disable","timeout_ms":30000}"#
        }
        let store = try await suite.start(backend, config: config)
        let listed = try await call(store, "request_log.list", .object([:]))
        #expect(listed["rows"]?.arrayValue?.first?["request_id"] == .string("from-v1"))
        #expect(try await call(store, "budget.reserve", hold("new", estimate: 0.1))["admitted"] == .bool(true), "the newest tables exist")
        #expect(try await call(store, "reward.list", .object([:]))["total"] == .number(0))
        await store.stop(deadline: .now + .seconds(10))
        // Starting again finds nothing left to migrate.
        let again = try await suite.start(backend, config: config)
        #expect(try await call(again, "request_log.list", .object([:]))["total"] == .number(1))
        await again.stop(deadline: .now + .seconds(10))
    }

    @Test("PostgresStore config errors name the field and never show the password")
    func postgresConfigErrors() async throws {
        let cases: [(config: String, expected: String)] = [
            (#"{}"#, "config.url: required"),
            (#"{"url":"mysql://u@h/db"}"#, "config.url: expected postgres://"),
            (#"{"url":"postgres://u:hunter2@h"}"#, "config.url: no database name"),
            (#"{"url":"postgres://u@h/db","password_env":"TOKENHUB_TEST_UNSET_VARIABLE"}"#, "config.password_env: the environment variable TOKENHUB_TEST_UNSET_VARIABLE is not set"),
            (#"{"url":"postgres://u:hunter2@h/db","password_env":"HOME"}"#, "config.password_env: the url already carries a password"),
            (#"{"url":"postgres://u@h/db","tls":"maybe"}"#, "config.tls: expected disable, prefer or require"),
            (#"{"url":"postgres://u@h/db","pool_size":0}"#, "config.pool_size: expected 1 to 200"),
            (#"{"url":"postgres://u@h/db","colour":"red"}"#, "config.colour: unknown key"),
        ]
        for (config, expected) in cases {
            do {
                _ = try await suite.start(.postgres, config: config)
                Issue.record("\(config) must not start")
            } catch let error as PluginLoadError {
                #expect(error.detail.contains(expected), "\(config): \(error.detail)")
                #expect(!error.detail.contains("hunter2"))
            }
        }
        // Unreachable: the error names host and port, not the password.
        do {
            _ = try await suite.start(.postgres, config: #"{"url":"postgres://u:hunter2@127.0.0.1:1/db","tls":"disable","timeout_ms":1000}"#)
            Issue.record("an unreachable server must not start")
        } catch let error as PluginLoadError {
            #expect(error.code == .startFailed)
            #expect(error.detail.contains("127.0.0.1:1/db") && !error.detail.contains("hunter2"), "\(error.detail)")
        }
    }

    @Test("several stores starting at once on one fresh database all migrate it and start", arguments: StoreConformanceTests.backends)
    func concurrentMigrations(backend: StoreBackend) async throws {
        let config = try await backend.freshConfig()
        let stores = try await withThrowingTaskGroup(of: StoreInstance.self) { group in
            for _ in 0..<4 { group.addTask { try await suite.start(backend, config: config) } }
            return try await group.reduce(into: [StoreInstance]()) { $0.append($1) }
        }
        #expect(stores.count == 4)
        #expect(try await call(stores[0], "budget.reserve", hold("m", estimate: 0.1))["admitted"] == .bool(true), "the newest schema is there")
        for store in stores { await store.stop(deadline: .now + .seconds(10)) }
    }
}
