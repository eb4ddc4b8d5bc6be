import Foundation
import Testing
import TestSupport
import TokenHubCore

/// `tokenhub store copy` between real stores: a SQLite file written by a running gateway, a
/// PostgreSQL database, and a fresh SQLite file.
@Suite("tokenhub store copy", .serialized)
struct StoreCopyTests {
    func tokenhub(_ arguments: [String]) async throws -> Subprocess.Result {
        try await Subprocess.running(TestPaths.tokenhub.path, arguments)
    }

    /// The `copied` column of the final table, by kind.
    func copied(_ output: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            if columns.count >= 2, let count = Int(columns[1]) { counts[String(columns[0])] = count }
        }
        return counts
    }

    @Test("SQLite → PostgreSQL → a fresh SQLite: every kind arrives, checksums are equal, and a second run copies nothing")
    func roundTrip() async throws {
        // A gateway writes every kind into the first store: a key (and the audit of its
        // creation), a provider and a model, the routing config, and logged chats with their
        // rewards and points.
        let (database, config) = try StoreIntegrationTests.storeConfig()
        let server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        #expect(try await client.post("/admin/v1/apikeys", body: #"{"name":"copied"}"#).status == 201)
        #expect(try await client.post("/admin/v1/providers", body: #"{"id":"extra","type":"echo"}"#).status == 201)
        #expect(try await client.request("PUT", "/admin/v1/routing-config", body: #"{"mode":"cheap","max_budget_usd":0.2,"max_latency_ms":9000,"min_weight":0}"#).status == 200)
        for index in 0..<5 {
            _ = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"copy \#(index)"}]}}"#)
        }
        #expect(await server.stopped() == 0)

        let postgres = try await PostgresServer.shared().createDatabase("copy")
        let first = try await tokenhub(["store", "copy", "--from", "sqlite:\(database)", "--to", postgres])
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        let counts = copied(first.stdout)
        #expect(counts["request_logs"] == 5 && counts["rewards"] == 5, "\(first.stdout)")
        #expect((counts["tsdb_points"] ?? 0) >= 15 && (counts["api_keys"] ?? 0) == 1 && (counts["audit"] ?? 0) >= 1, "\(first.stdout)")
        #expect((counts["providers"] ?? 0) >= 1 && counts["routing_config"] == 1, "\(first.stdout)")

        let again = try await tokenhub(["store", "copy", "--from", "sqlite:\(database)", "--to", postgres])
        #expect(again.status == 0)
        #expect(copied(again.stdout).values.allSatisfy { $0 == 0 }, "a second run copies nothing: \(again.stdout)")

        let fresh = try TestPaths.makeTemporaryDirectory("copy-back").appendingPathComponent("back.db").path
        let back = try await tokenhub(["store", "copy", "--from", postgres, "--to", "sqlite:\(fresh)", "--verify"])
        #expect(back.status == 0, "\(back.stdout) \(back.stderr)")
        #expect(!back.stdout.contains("DIFFER"), "\(back.stdout)")
        // The first and the last file hold the same rows, read with the sqlite3 CLI.
        for table in ["registry_providers", "registry_models", "settings", "api_keys", "request_logs", "audit_logs", "rewards", "tsdb_points"] {
            let query = "SELECT COUNT(*), TOTAL(LENGTH(\(table == "tsdb_points" ? "metric || value" : table == "audit_logs" ? "action || resource" : "*"))) FROM \(table)"
                .replacingOccurrences(of: "LENGTH(*)", with: "1")
            let original = try await Subprocess.running("/usr/bin/env", ["sqlite3", database, query]).stdout
            let copiedBack = try await Subprocess.running("/usr/bin/env", ["sqlite3", fresh, query]).stdout
            #expect(original == copiedBack, "\(table): \(original) vs \(copiedBack)")
        }
    }

    @Test("an unreachable or misnamed store is a clear error that names it and hides the password")
    func errors() async throws {
        let unreachable = try await tokenhub(["store", "copy", "--from", "postgres://u:hunter2@127.0.0.1:1/db", "--to", "sqlite:/tmp/x.db"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("127.0.0.1:1/db"), "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains("hunter2") && !unreachable.stdout.contains("hunter2"))
        let bad = try await tokenhub(["store", "copy", "--from", "{plugin: SQLiteStore, config: {pth: x}}", "--to", "sqlite:/tmp/x.db"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("config.pth"), "\(bad.stderr)")
    }
}
