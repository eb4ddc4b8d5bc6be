import Foundation
import Testing
import TestSupport
import TokenHubCore

// Reloads that build new generations of plugins and stores, under load (the `Config reload` suite).

extension ConfigReloadTests {
    @Test("generations: a reload adds and removes a C dispatcher and telemetry while requests flow; a broken plugin rejects the whole reload; /healthz shows the generation")
    func generations() async throws {
        let relay = try await CPluginBuilder.build("relay_dispatch")
        let failing = try await CPluginBuilder.build("create_fails")
        let path = try writeConfig(config(models: ["echo-a"]))
        let server = try await RunningTokenhub.start(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]
        #expect(try await client.get("/healthz").json?["generation"] == .number(1))

        // Requests flow the whole time; none may fail.
        let load = ChatLoad(client, clients: 8)

        // Generation 2: a C relay ahead of DirectDispatch, and telemetry on. DirectDispatch is taken over.
        try (config(models: ["echo-a"], chain: "[{plugin: \(relay), name: relay}, DirectDispatch]") + "\ntelemetry: [PrometheusTelemetry]\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let second = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(second.status == 200, "\(String(decoding: second.body, as: UTF8.self))")
        #expect(second.json?["generation"] == .number(2))
        #expect(second.json?["created"] == .array([.string("relay"), .string("prometheus")]))
        #expect(second.json?["reused"] == .array([.string("direct")]))
        #expect(second.json?["changed"] == .array([.string("dispatch.chain"), .string("telemetry")]))
        try await Task.sleep(for: .milliseconds(500))
        let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
        #expect(answer.json?["dispatcher"] == .string("relay"))
        #expect(try await client.get("/metrics").status == 200, "telemetry is on")

        // A plugin whose create fails rejects the whole reload, naming where it is configured.
        try config(models: ["echo-a", "echo-b"], chain: "[{plugin: \(failing)}, DirectDispatch]").write(toFile: path, atomically: true, encoding: .utf8)
        let rejected = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(rejected.status == 422)
        #expect(rejected.json?["error"]?["code"] == .string("plugin_failed"))
        let message = rejected.json?["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("dispatch.chain[0]") && message.contains("create failed: config.endpoint: required setting is missing"), "\(message)")
        #expect(try await modelIDs(client) == ["echo-a"], "nothing of the rejected generation applied")
        #expect(try await client.get("/healthz").json?["generation"] == .number(2))

        // Generation 3: back to DirectDispatch alone, telemetry off. The relay drains and is destroyed.
        try config(models: ["echo-a"]).write(toFile: path, atomically: true, encoding: .utf8)
        let third = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(third.status == 200, "\(String(decoding: third.body, as: UTF8.self))")
        #expect(third.json?["generation"] == .number(3))
        #expect(third.json?["created"] == .array([]))
        try await Task.sleep(for: .milliseconds(500))
        await load.stop()
        #expect(try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#).json?["dispatcher"] == .string("direct"))
        #expect(try await client.get("/metrics").status == 404, "telemetry is off")

        // Generation 4: a new admin token; the old one stops working at once.
        let newToken = "rotated-admin-token-9876543210"
        try config(models: ["echo-a"]).replacingOccurrences(of: Self.adminToken, with: newToken).write(toFile: path, atomically: true, encoding: .utf8)
        let rotated = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(rotated.json?["changed"] == .array([.string("server.admin_token")]))
        #expect(try await client.post("/admin/v1/reload", body: "", headers: admin).status == 401, "the old token is refused")
        #expect(try await client.post("/admin/v1/reload", body: "", headers: ["Authorization": "Bearer \(newToken)"]).status == 200)
        #expect(load.failures.isEmpty, "\(load.failures.prefix(5))")
        let served = load.served
        #expect((served["relay"] ?? 0) > 0 && (served["direct"] ?? 0) > 0, "\(served)")
        #expect(await server.stopped() == 0)
        #expect(server.log.contains("generation 2: retired instances stopped"), "\(server.log.suffix(2000))")
    }
}

extension ConfigReloadTests {
    /// Compiles versioned_dispatch.c against `header` into `output`, replacing it the way an
    /// operator should: build beside it, then rename over it.
    func buildVersioned(header: String?, into output: String) async throws {
        let include = TestPaths.packageRoot.appendingPathComponent(header.map { "Tests/Fixtures/Headers/\($0)" } ?? "Sources/PluginAPI/include").path
        let source = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/CPlugins/versioned_dispatch.c").path
        let temporary = output + ".new"
        let result = try await Subprocess.running("/usr/bin/env", ["cc", "-std=c11", "-O2", "-shared", "-fPIC", "-I", include, source, "-o", temporary])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(rename(temporary, output) == 0)
    }

    @Test("hot swap: a plugin file rebuilt at the same path and reloaded serves its new code; the old instance drains and is destroyed; the content hash shows which build runs")
    func hotSwap() async throws {
        let library = try TestPaths.makeTemporaryDirectory("swap").appendingPathComponent("libswap.so").path
        try await buildVersioned(header: "1.2", into: library)
        let path = try writeConfig(config(models: ["echo-a"], chain: "[{plugin: \(library), name: swap}]"))
        let server = try await RunningTokenhub.start(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]
        let body = #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#
        #expect(try await client.post("/v1/chat", body: body).json?["negotiated_model"] == .string("built-1.2"))
        let before = try await client.get("/healthz").json?["plugins"]?.arrayValue?.first?["sha256"]?.stringValue ?? ""
        #expect(before.count == 64)

        try await buildVersioned(header: nil, into: library)  // the same path, new code
        let reloaded = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(reloaded.status == 200, "\(String(decoding: reloaded.body, as: UTF8.self))")
        #expect(reloaded.json?["changed"] == .array([.string("plugins")]))
        #expect(reloaded.json?["created"] == .array([.string("swap")]))
        #expect(try await client.post("/v1/chat", body: body).json?["negotiated_model"] == .string("built-1.3"), "the new build answers")
        let after = try await client.get("/healthz").json?["plugins"]?.arrayValue?.first?["sha256"]?.stringValue ?? ""
        #expect(after.count == 64 && after != before)
        let listed = try await Subprocess.running(TestPaths.tokenhub.path, ["plugins", "--config", path])
        #expect(listed.stdout.contains("sha256:  \(after)"), "\(listed.stdout)")
        #expect(await server.stopped() == 0)
        #expect(server.log.contains("generation 1: retired instances stopped"), "\(server.log.suffix(1500))")
    }
}

extension ConfigReloadTests {
    @Test("twenty reloads under 32 concurrent clients alternate routing, models, the chain (a C plugin in and out), telemetry and the admin token, with four bad reloads between them (YAML, unknown plugin, failing create, restart-only key): no request fails, and the store has one row per answer")
    func reloadsUnderLoad() async throws {
        let relay = try await CPluginBuilder.build("relay_dispatch")
        let database = try TestPaths.makeTemporaryDirectory("reload-load").appendingPathComponent("t.db").path
        func generation(_ index: Int) -> String {
            let token = index % 4 < 2 ? Self.adminToken : Self.adminToken + "-b"
            let odd = index % 2 == 1
            return """
            server: {listen: 127.0.0.1:0, admin_token: \(token)}
            dispatch: {chain: \(odd ? "[{plugin: \(relay), name: relay}, DirectDispatch]" : "[DirectDispatch]")}
            store: {plugin: SQLiteStore, config: {path: \(database)}}
            providers: [{id: echo, type: echo}]
            models: [{id: echo-a, provider: echo}\(odd ? ", {id: echo-b, provider: echo}" : "")]
            routing: {mode: \(odd ? "cheap" : "normal")}
            \(index % 3 == 1 ? "telemetry: [PrometheusTelemetry]" : "")
            """
        }
        let path = try writeConfig(generation(0))
        let server = try await RunningTokenhub.start(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let load = ChatLoad(client, clients: 32)
        // Bad reloads between the good ones, each refused with its own error, changing nothing.
        let failing = try await CPluginBuilder.build("create_fails")
        let bad: [(yaml: (String) -> String, status: Int, code: String, names: String)] = [
            ({ $0 + "\nmodels: [oops" }, 400, "invalid_config", "invalid YAML"),
            ({ $0.replacingOccurrences(of: "dispatch: {chain: [DirectDispatch]}", with: "dispatch: {chain: [NoSuchPlugin]}") }, 422, "plugin_failed", "NoSuchPlugin"),
            ({ $0.replacingOccurrences(of: "dispatch: {chain: [DirectDispatch]}", with: "dispatch: {chain: [\(failing)]}") }, 422, "plugin_failed", "config.endpoint"),
            ({ $0 + "\nretention: {tsdb_days: 3}" }, 409, "restart_required", "retention.tsdb_days"),
        ]
        var generations: [Double] = []
        for index in 1...20 {
            try await Task.sleep(for: .milliseconds(300))
            let token = (index - 1) % 4 < 2 ? Self.adminToken : Self.adminToken + "-b"  // the running generation's
            let headers = ["Authorization": "Bearer \(token)"]
            if index % 5 == 0 {
                let refusal = bad[(index / 5 - 1) % bad.count]
                try refusal.yaml(generation(0)).write(toFile: path, atomically: true, encoding: .utf8)
                let answer = try await client.post("/admin/v1/reload", body: "", headers: headers)
                #expect(answer.status == refusal.status, "bad reload \(index): \(String(decoding: answer.body, as: UTF8.self))")
                #expect(answer.json?["error"]?["code"] == .string(refusal.code))
                #expect(answer.json?["error"]?["message"]?.stringValue?.contains(refusal.names) == true, "\(String(decoding: answer.body, as: UTF8.self))")
                #expect(try await client.get("/healthz").json?["generation"] == .number(Double(index)), "unchanged")
            }
            try generation(index).write(toFile: path, atomically: true, encoding: .utf8)
            let answer = try await client.post("/admin/v1/reload", body: "", headers: headers)
            #expect(answer.status == 200, "reload \(index): \(String(decoding: answer.body, as: UTF8.self))")
            generations.append(answer.json?["generation"]?.numberValue ?? 0)
        }
        try await Task.sleep(for: .milliseconds(400))
        await load.stop()
        #expect(generations == (2...21).map(Double.init))
        #expect(load.failures.isEmpty, "\(load.failures.count) failed: \(load.failures.prefix(5))")
        let served = load.served
        #expect((served["relay"] ?? 0) > 0 && (served["direct"] ?? 0) > 0, "\(served)")
        #expect(await server.stopped() == 0)
        let rows = try await Subprocess.running("/usr/bin/env", ["sqlite3", database, "SELECT COUNT(*) FROM request_logs"])
        #expect(rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(served.values.reduce(0, +))", "one row per answered request")
    }
}

extension ConfigReloadTests {
    @Test("store swap: reloads switch between two SQLite files under 16 clients; requests in flight write to their generation's store; the rows across both files equal the requests answered")
    func storeSwap() async throws {
        let directory = try TestPaths.makeTemporaryDirectory("store-swap")
        let first = directory.appendingPathComponent("first.db").path, second = directory.appendingPathComponent("second.db").path
        func config(_ database: String) -> String {
            self.config(models: ["echo-a"]) + "\nstore: {plugin: SQLiteStore, config: {path: \(database)}}\n"
        }
        let path = try writeConfig(config(first))
        let server = try await RunningTokenhub.start(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]
        let load = ChatLoad(client, clients: 16)
        for database in [second, first, second] {
            try await Task.sleep(for: .milliseconds(700))
            try config(database).write(toFile: path, atomically: true, encoding: .utf8)
            let answer = try await client.post("/admin/v1/reload", body: "", headers: admin)
            #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
            #expect(answer.json?["changed"] == .array([.string("store")]))
        }
        try await Task.sleep(for: .milliseconds(700))
        await load.stop()
        #expect(load.failures.isEmpty, "\(load.failures.prefix(5))")
        #expect(await server.stopped() == 0)
        func count(_ database: String) async throws -> Int {
            Int(try await Subprocess.running("/usr/bin/env", ["sqlite3", database, "SELECT COUNT(*) FROM request_logs"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        let inFirst = try await count(first), inSecond = try await count(second)
        let answered = load.answered
        #expect(inFirst > 0 && inSecond > 0, "\(inFirst) and \(inSecond) rows")
        #expect(inFirst + inSecond == answered, "\(inFirst) + \(inSecond) rows for \(answered) answers: none lost, none twice")
        #expect(server.log.contains("flushed and stopped"), "\(server.log.suffix(1500))")
    }
}
