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
        try await TestSupport.eventually(timeout: .seconds(10), every: .milliseconds(50), condition)
    }

    @Test("SIGHUP applies models and rate limits while requests flow, and no request is dropped")
    func hangupWhileServing() async throws {
        let path = try writeConfig(config(models: ["echo-a"]))
        let server = try await RunningTokenhub.start(configPath: path)
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
        #expect(await server.stopped() == 0)
    }

    @Test("POST /admin/v1/reload: 200 with what changed, 409 naming restart-only keys, 400 naming the bad field")
    func adminReload() async throws {
        let path = try writeConfig(config(models: ["echo-a"]))
        let server = try await RunningTokenhub.start(configPath: path)
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
        #expect(await server.stopped() == 0)
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
        let server = try await RunningTokenhub.start(configPath: path)
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
        #expect(await server.stopped() == 0)
    }
}

/// Tells traffic loops to finish their current request and end, and counts their answers.
final class StopFlag: Sendable {
    private let flag = Atomic(false)
    private let answered = Atomic(0)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
    var answers: Int { answered.load(ordering: .relaxed) }
    func countAnswer() { answered.add(1, ordering: .relaxed) }
}

extension ConfigReloadTests {
    @Test("server.watch_config: a saved file is reloaded without a signal; an invalid save is refused and logged, changing nothing")
    func watchConfig() async throws {
        let path = try writeConfig(config(models: ["echo-a"]).replacingOccurrences(of: "rate_limit:", with: "watch_config: true, rate_limit:"))
        let server = try await RunningTokenhub.start(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        try config(models: ["echo-a", "echo-b"]).replacingOccurrences(of: "rate_limit:", with: "watch_config: true, rate_limit:")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await eventually { try await modelIDs(client) == ["echo-a", "echo-b"] }, "the change was picked up")
        #expect(try await client.get("/healthz").json?["generation"] == .number(2))
        try "models: [{id: x, provider: missing}]\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await eventually { server.log.contains("config reload refused") })
        #expect(try await modelIDs(client) == ["echo-a", "echo-b"], "an invalid save changes nothing")
        #expect(await server.stopped() == 0)
    }
}

extension ConfigReloadTests {
    @Test("server.log_level changes with a reload: request lines appear at info, not at notice")
    func logLevel() async throws {
        let quiet = config(models: ["echo-a"]).replacingOccurrences(of: "rate_limit:", with: "log_level: notice, rate_limit:")
        let path = try writeConfig(quiet)
        let server = try await RunningTokenhub.start(configPath: path)
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
        #expect(await server.stopped() == 0)
    }

    @Test("shutdown with a dispatcher that never answers: the stuck request gets its timeout, tokenhub exits 0 within the bound")
    func shutdownWithStuckRequest() async throws {
        let never = try await CPluginBuilder.build("misbehaving")
        let path = try writeConfig(config(models: ["echo-a"], chain: "[{plugin: \(never), config: {behavior: never}}]")
            .replacingOccurrences(of: "rate_limit:", with: "shutdown_timeout_ms: 1000, rate_limit:"))
        let server = try await RunningTokenhub.start(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let stuck = Task {
            try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]},"policy":{"max_latency_ms":1000}}"#)
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        server.process.terminate()
        let answer = try await stuck.value
        #expect(answer.status == 504, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(await server.stopped() == 0)
        let took = ContinuousClock.now - started
        // The request's deadline (1 s) plus the delivery grace (5 s), then the plugins' bound (1 s).
        #expect(took < .seconds(20), "exited after \(took)")
    }
}
