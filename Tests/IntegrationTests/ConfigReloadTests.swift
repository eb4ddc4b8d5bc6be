import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import Testing
import TestSupport
import TokenHubCore

/// Hot reload of config.yaml on a running `tokenhub serve`: SIGHUP and `POST /admin/v1/reload`.
@Suite("Config reload", .serialized)
struct ConfigReloadTests {
    static let adminToken = "reload-admin-token-0123456789"

    func config(models: [String], routingMode: String = "normal", rateLimit: String = "{enabled: false}",
                chain: String = "[DirectDispatch]") -> String {
        """
        server: {listen: 127.0.0.1:0, admin_token: \(Self.adminToken), rate_limit: \(rateLimit)}
        dispatch: {chain: \(chain)}
        providers: [{id: echo, type: echo}]
        models: [\(models.map { "{id: \($0), provider: echo}" }.joined(separator: ", "))]
        routing: {mode: \(routingMode)}
        """
    }

    func modelIDs(_ client: HTTPTestClient) async throws -> Set<String> {
        Set(try await client.get("/v1/models").json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
    }

    /// Polls until `condition` holds (a SIGHUP is handled asynchronously); false after 10 s.
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<200 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test("SIGHUP applies models and rate limits while requests flow, and no request is dropped")
    func hangupWhileServing() async throws {
        let path = try writeConfig(config(models: ["echo-a"]))
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        #expect(try await modelIDs(client) == ["echo-a"])

        // Traffic on four connections for the whole reload sequence.
        let stop = StopFlag()
        let traffic = Task {
            try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var statuses: [Int] = []
                        while !stop.isSet {
                            statuses.append(try await client.post("/v1/chat/completions",
                                                                  body: #"{"model":"*","messages":[{"role":"user","content":"hi"}]}"#).status)
                            stop.countAnswer()
                        }
                        return statuses
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
        }

        // Each reload happens while answers keep arriving: wait for a few before and after.
        func trafficFlows() async throws -> Bool {
            let seen = stop.answers
            return try await eventually { stop.answers >= seen + 4 }
        }
        #expect(try await trafficFlows())
        try config(models: ["echo-a", "echo-b"]).write(toFile: path, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(try await eventually { try await modelIDs(client) == ["echo-a", "echo-b"] }, "the added model is served")

        #expect(try await trafficFlows())
        try config(models: ["echo-b"], routingMode: "cheap").write(toFile: path, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(try await eventually { try await modelIDs(client) == ["echo-b"] }, "the removed model is gone")

        #expect(try await trafficFlows())
        stop.set()
        let statuses = try await traffic.value
        #expect(statuses.allSatisfy { $0 == 200 }, "every request answered 200: \(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")

        let pinned = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"hi"}]}}"#)
        #expect(pinned.json?["negotiated_model"] == .string("echo-b"))

        // A rate limit switched on by a reload applies to the next requests.
        try config(models: ["echo-b"], rateLimit: "{enabled: true, requests_per_second: 0.01, burst: 1}")
            .write(toFile: path, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        let limited = try await eventually {
            try await client.post("/v1/chat/completions", body: #"{"messages":[{"role":"user","content":"hi"}]}"#).status == 429
        }
        #expect(limited, "the reloaded rate limit answers 429")
        #expect(server.log.contains("config reloaded"))
        #expect(!server.log.contains(Self.adminToken), "the admin token never reaches the log")
        #expect(server.stop() == 0)
    }

    @Test("POST /admin/v1/reload: 200 with what changed, 409 naming restart-only keys, 400 naming the bad field")
    func adminReload() async throws {
        let path = try writeConfig(config(models: ["echo-a"]))
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]

        #expect(try await client.post("/admin/v1/reload", body: "").status == 401)

        let unchanged = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(unchanged.status == 200)
        #expect(unchanged.json?["changed"] == .array([]))

        try config(models: ["echo-a", "echo-b"], routingMode: "cheap").write(toFile: path, atomically: true, encoding: .utf8)
        let applied = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(applied.status == 200)
        #expect(applied.json?["changed"] == .array([.string("models"), .string("routing")]))
        #expect(applied.json?["models"] == .number(2))

        // A retention change needs a restart: refused as a whole, the model added with it is not served.
        try (config(models: ["echo-a", "echo-b", "echo-c"]) + "\nretention: {tsdb_days: 7}\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(refused.status == 409)
        #expect(refused.json?["error"]?["code"] == .string("restart_required"))
        #expect(refused.json?["error"]?["message"]?.stringValue?.contains("retention.tsdb_days") == true, "\(String(decoding: refused.body, as: UTF8.self))")
        #expect(try await modelIDs(client) == ["echo-a", "echo-b"])

        try "server: {listen: 127.0.0.1:0, admin_token: \(Self.adminToken)}\nmodels: [{id: x, provider: missing}]\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let invalid = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(invalid.status == 400)
        #expect(invalid.json?["error"]?["message"]?.stringValue?.contains("models[0].provider") == true, "\(String(decoding: invalid.body, as: UTF8.self))")
        #expect(try await modelIDs(client) == ["echo-a", "echo-b"], "an invalid file changes nothing")
        #expect(try await client.post("/v1/chat/completions", body: #"{"messages":[{"role":"user","content":"hi"}]}"#).status == 200)
        #expect(server.stop() == 0)
    }
}

extension ConfigReloadTests {
    @Test("with a store the store stays the registry: a reload adds the file's new models, admin changes win")
    func reloadWithStore() async throws {
        let database = try TestPaths.makeTemporaryDirectory("store").appendingPathComponent("tokenhub.db").path
        func yaml(_ models: String) -> String {
            """
            server: {listen: 127.0.0.1:0, admin_token: \(Self.adminToken)}
            dispatch: {chain: [DirectDispatch]}
            store: {plugin: SQLiteStore, config: {path: \(database)}}
            providers: [{id: echo, type: echo}]
            models: [\(models)]
            """
        }
        let path = try writeConfig(yaml("{id: echo-a, provider: echo, weight: 5}"))
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]

        var patch = HTTPClientRequest(url: server.baseURL + "/admin/v1/models/echo-a")
        patch.method = .PATCH
        patch.headers.add(name: "Authorization", value: "Bearer \(Self.adminToken)")
        patch.body = .bytes(ByteBuffer(string: #"{"weight":9}"#))
        #expect(try await HTTPClient.shared.execute(patch, timeout: .seconds(30)).status.code == 200)

        try yaml("{id: echo-a, provider: echo, weight: 1}, {id: echo-b, provider: echo, weight: 2}")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let reloaded = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(reloaded.status == 200, "\(String(decoding: reloaded.body, as: UTF8.self))")
        let models = try await client.get("/v1/models")
        #expect(Set(models.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == ["echo-a", "echo-b"])

        var list = HTTPClientRequest(url: server.baseURL + "/admin/v1/models")
        list.headers.add(name: "Authorization", value: "Bearer \(Self.adminToken)")
        let listed = try await HTTPClient.shared.execute(list, timeout: .seconds(30)).body.collect(upTo: 1 << 20)
        let records = try JSONValue.parse(Array(listed.readableBytesView))["models"]?.arrayValue ?? []
        #expect(records.first { $0["id"] == .string("echo-a") }?["weight"] == .number(9), "the admin change wins over the file")

        var audit = HTTPClientRequest(url: server.baseURL + "/admin/v1/audit")
        audit.headers.add(name: "Authorization", value: "Bearer \(Self.adminToken)")
        let trail = try await HTTPClient.shared.execute(audit, timeout: .seconds(30)).body.collect(upTo: 1 << 20)
        #expect(String(buffer: trail).contains("config.reload"))
        #expect(server.stop() == 0)
    }
}

/// Tells traffic loops to finish their current request and end, and counts their answers.
private final class StopFlag: Sendable {
    private let flag = Atomic(false)
    private let answered = Atomic(0)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
    var answers: Int { answered.load(ordering: .relaxed) }
    func countAnswer() { answered.add(1, ordering: .relaxed) }
}

extension ConfigReloadTests {
    @Test("generations: a reload adds and removes a C dispatcher and telemetry while requests flow; a broken plugin rejects the whole reload; /healthz shows the generation")
    func generations() async throws {
        let relay = try CPluginBuilder.build("relay_dispatch")
        let failing = try CPluginBuilder.build("create_fails")
        let path = try writeConfig(config(models: ["echo-a"]))
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]
        #expect(try await client.get("/healthz").json?["generation"] == .number(1))

        // Requests flow the whole time; none may fail.
        let tally = Tally()
        let load = Task {
            while tally.running.withLock({ $0 }) {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            do {
                                let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
                                if answer.status == 200, let dispatcher = answer.json?["dispatcher"]?.stringValue {
                                    tally.served.withLock { $0[dispatcher, default: 0] += 1 }
                                } else {
                                    tally.failures.withLock { $0.append("\(answer.status) \(String(decoding: answer.body, as: UTF8.self))") }
                                }
                            } catch {
                                tally.failures.withLock { $0.append("\(error)") }
                            }
                        }
                    }
                }
            }
        }

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
        tally.running.withLock { $0 = false }  // the load ends after its current round
        _ = await load.value
        #expect(try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#).json?["dispatcher"] == .string("direct"))
        #expect(try await client.get("/metrics").status == 404, "telemetry is off")

        // Generation 4: a new admin token; the old one stops working at once.
        let newToken = "rotated-admin-token-9876543210"
        try config(models: ["echo-a"]).replacingOccurrences(of: Self.adminToken, with: newToken).write(toFile: path, atomically: true, encoding: .utf8)
        let rotated = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(rotated.json?["changed"] == .array([.string("server.admin_token")]))
        #expect(try await client.post("/admin/v1/reload", body: "", headers: admin).status == 401, "the old token is refused")
        #expect(try await client.post("/admin/v1/reload", body: "", headers: ["Authorization": "Bearer \(newToken)"]).status == 200)
        #expect(tally.failures.withLock { $0 }.isEmpty, "\(tally.failures.withLock { $0.prefix(5) })")
        let served = tally.served.withLock { $0 }
        #expect((served["relay"] ?? 0) > 0 && (served["direct"] ?? 0) > 0, "\(served)")
        #expect(server.stop() == 0)
        #expect(server.log.contains("generation 2: retired instances stopped"), "\(server.log.suffix(2000))")
    }
}

extension ConfigReloadTests {
    /// Compiles versioned_dispatch.c against `header` into `output`, replacing it the way an
    /// operator should: build beside it, then rename over it.
    func buildVersioned(header: String?, into output: String) throws {
        let include = TestPaths.packageRoot.appendingPathComponent(header.map { "Tests/Fixtures/Headers/\($0)" } ?? "Sources/PluginAPI/include").path
        let source = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/CPlugins/versioned_dispatch.c").path
        let temporary = output + ".new"
        let result = try Subprocess.run("/usr/bin/env", ["cc", "-std=c11", "-O2", "-shared", "-fPIC", "-I", include, source, "-o", temporary])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(rename(temporary, output) == 0)
    }

    @Test("hot swap: a plugin file rebuilt at the same path and reloaded serves its new code; the old instance drains and is destroyed; the content hash shows which build runs")
    func hotSwap() async throws {
        let library = try TestPaths.makeTemporaryDirectory("swap").appendingPathComponent("libswap.so").path
        try buildVersioned(header: "1.2", into: library)
        let path = try writeConfig(config(models: ["echo-a"], chain: "[{plugin: \(library), name: swap}]"))
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]
        let body = #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#
        #expect(try await client.post("/v1/chat", body: body).json?["negotiated_model"] == .string("built-1.2"))
        let before = try await client.get("/healthz").json?["plugins"]?.arrayValue?.first?["sha256"]?.stringValue ?? ""
        #expect(before.count == 64)

        try buildVersioned(header: nil, into: library)  // the same path, new code
        let reloaded = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(reloaded.status == 200, "\(String(decoding: reloaded.body, as: UTF8.self))")
        #expect(reloaded.json?["changed"] == .array([.string("plugins")]))
        #expect(reloaded.json?["created"] == .array([.string("swap")]))
        #expect(try await client.post("/v1/chat", body: body).json?["negotiated_model"] == .string("built-1.3"), "the new build answers")
        let after = try await client.get("/healthz").json?["plugins"]?.arrayValue?.first?["sha256"]?.stringValue ?? ""
        #expect(after.count == 64 && after != before)
        let listed = try Subprocess.run(TestPaths.tokenhub.path, ["plugins", "--config", path])
        #expect(listed.stdout.contains("sha256:  \(after)"), "\(listed.stdout)")
        #expect(server.stop() == 0)
        #expect(server.log.contains("generation 1: retired instances stopped"), "\(server.log.suffix(1500))")
    }
}

extension ConfigReloadTests {
    @Test("twenty reloads under 32 concurrent clients alternate routing, models, the chain (a C plugin in and out), telemetry and the admin token, with four bad reloads between them (YAML, unknown plugin, failing create, restart-only key): no request fails, and the store has one row per answer")
    func reloadsUnderLoad() async throws {
        let relay = try CPluginBuilder.build("relay_dispatch")
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
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let tally = Tally()
        let clients = (0..<32).map { _ in
            Task {
                while tally.running.withLock({ $0 }) {
                    do {
                        let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
                        if answer.status == 200, let dispatcher = answer.json?["dispatcher"]?.stringValue {
                            tally.served.withLock { $0[dispatcher, default: 0] += 1 }
                        } else {
                            tally.failures.withLock { $0.append("\(answer.status) \(String(decoding: answer.body, as: UTF8.self))") }
                        }
                    } catch {
                        tally.failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        // Bad reloads between the good ones, each refused with its own error, changing nothing.
        let failing = try CPluginBuilder.build("create_fails")
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
        tally.running.withLock { $0 = false }
        for task in clients { await task.value }
        #expect(generations == (2...21).map(Double.init))
        #expect(tally.failures.withLock { $0 }.isEmpty, "\(tally.failures.withLock { $0.count }) failed: \(tally.failures.withLock { $0.prefix(5) })")
        let served = tally.served.withLock { $0 }
        #expect((served["relay"] ?? 0) > 0 && (served["direct"] ?? 0) > 0, "\(served)")
        #expect(server.stop() == 0)
        let rows = try Subprocess.run("/usr/bin/env", ["sqlite3", database, "SELECT COUNT(*) FROM request_logs"])
        #expect(rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(served.values.reduce(0, +))", "one row per answered request")
    }
}

extension ConfigReloadTests {
    @Test("server.watch_config: a saved file is reloaded without a signal; an invalid save is refused and logged, changing nothing")
    func watchConfig() async throws {
        let path = try writeConfig(config(models: ["echo-a"]).replacingOccurrences(of: "rate_limit:", with: "watch_config: true, rate_limit:"))
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        try config(models: ["echo-a", "echo-b"]).replacingOccurrences(of: "rate_limit:", with: "watch_config: true, rate_limit:")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await eventually { try await modelIDs(client) == ["echo-a", "echo-b"] }, "the change was picked up")
        #expect(try await client.get("/healthz").json?["generation"] == .number(2))
        try "models: [{id: x, provider: missing}]\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await eventually { server.log.contains("config reload refused") })
        #expect(try await modelIDs(client) == ["echo-a", "echo-b"], "an invalid save changes nothing")
        #expect(server.stop() == 0)
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
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]
        let tally = Tally()
        let clients = (0..<16).map { _ in
            Task {
                while tally.running.withLock({ $0 }) {
                    do {
                        let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
                        if answer.status == 200 {
                            tally.served.withLock { $0["answered", default: 0] += 1 }
                        } else {
                            tally.failures.withLock { $0.append("\(answer.status) \(String(decoding: answer.body, as: UTF8.self))") }
                        }
                    } catch {
                        tally.failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        for database in [second, first, second] {
            try await Task.sleep(for: .milliseconds(700))
            try config(database).write(toFile: path, atomically: true, encoding: .utf8)
            let answer = try await client.post("/admin/v1/reload", body: "", headers: admin)
            #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
            #expect(answer.json?["changed"] == .array([.string("store")]))
        }
        try await Task.sleep(for: .milliseconds(700))
        tally.running.withLock { $0 = false }
        for task in clients { await task.value }
        #expect(tally.failures.withLock { $0 }.isEmpty, "\(tally.failures.withLock { $0.prefix(5) })")
        #expect(server.stop() == 0)
        func count(_ database: String) throws -> Int {
            Int(try Subprocess.run("/usr/bin/env", ["sqlite3", database, "SELECT COUNT(*) FROM request_logs"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        let (inFirst, inSecond) = (try count(first), try count(second))
        let answered = tally.served.withLock { $0["answered"] ?? 0 }
        #expect(inFirst > 0 && inSecond > 0, "\(inFirst) and \(inSecond) rows")
        #expect(inFirst + inSecond == answered, "\(inFirst) + \(inSecond) rows for \(answered) answers: none lost, none twice")
        #expect(server.log.contains("flushed and stopped"), "\(server.log.suffix(1500))")
    }
}

extension ConfigReloadTests {
    @Test("server.log_level changes with a reload: request lines appear at info, not at notice")
    func logLevel() async throws {
        let quiet = config(models: ["echo-a"]).replacingOccurrences(of: "rate_limit:", with: "log_level: notice, rate_limit:")
        let path = try writeConfig(quiet)
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let admin = ["Authorization": "Bearer \(Self.adminToken)"]
        let first = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
        let firstID = try #require(first.json?["request_id"]?.stringValue)
        try config(models: ["echo-a"]).write(toFile: path, atomically: true, encoding: .utf8)
        let reloaded = try await client.post("/admin/v1/reload", body: "", headers: admin)
        #expect(reloaded.json?["changed"] == .array([.string("server.log_level")]))
        let second = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
        let secondID = try #require(second.json?["request_id"]?.stringValue)
        #expect(try await eventually { server.log.contains("request_id=\(secondID)") }, "info lines after the reload")
        #expect(!server.log.contains("request_id=\(firstID)"), "no info line at notice")
        #expect(server.stop() == 0)
    }

    @Test("shutdown with a dispatcher that never answers: the stuck request gets its timeout, tokenhub exits 0 within the bound")
    func shutdownWithStuckRequest() async throws {
        let never = try CPluginBuilder.build("misbehaving")
        let path = try writeConfig(config(models: ["echo-a"], chain: "[{plugin: \(never), config: {behavior: never}}]")
            .replacingOccurrences(of: "rate_limit:", with: "shutdown_timeout_ms: 1000, rate_limit:"))
        let server = try RunningTokenhub(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let stuck = Task {
            try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]},"policy":{"max_latency_ms":1000}}"#)
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        server.process.terminate()
        let answer = try await stuck.value
        #expect(answer.status == 504, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(server.stop() == 0)
        let took = ContinuousClock.now - started
        // The request's deadline (1 s) plus the delivery grace (5 s), then the plugins' bound (1 s).
        #expect(took < .seconds(20), "exited after \(took)")
    }
}

/// What concurrent test clients saw.
final class Tally: Sendable {
    let failures = Mutex<[String]>([])
    let served = Mutex<[String: Int]>([:])
    let running = Mutex(true)
}
