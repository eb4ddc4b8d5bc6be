import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TestSupport
import TokenHubCore

/// `GET /admin/v1/events` through a running tokenhub, read as a client reads SSE.
@Suite("Event stream (SSE)", .serialized)
struct EventStreamTests {
    @Test("two subscribers see the same ordered events; a resume with Last-Event-ID loses nothing; no token, key or prompt is ever sent")
    func orderedAndResumable() async throws {
        let (_, config) = try StoreIntegrationTests.storeConfig()
        let server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        let wanted = 6
        let done: @Sendable ([[String: String]]) -> Bool = { $0.filter { $0["event"] == "route_success" }.count >= wanted }
        async let first = frames(server, until: done)
        async let second = frames(server, "/admin/v1/events?types=route_success,key_revoked", until: done)
        try await Task.sleep(for: .milliseconds(300))
        let created = try await client.post("/admin/v1/apikeys", body: #"{"name":"evented"}"#)
        let key = try #require(created.json?["key"]?.stringValue)
        let id = try #require(created.json?["id"]?.stringValue)
        for index in 0..<wanted {
            _ = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"secret prompt \#(index)"}]}}"#)
        }
        _ = try await client.request("DELETE", "/admin/v1/apikeys/\(id)")
        let (a, b) = try await (first, second)
        #expect(a.first?["event"] == "connected")
        let successesA = a.filter { $0["event"] == "route_success" }.compactMap { $0["id"] }
        let successesB = b.filter { $0["event"] == "route_success" }.compactMap { $0["id"] }
        #expect(successesA.count >= wanted && successesA.prefix(wanted) == successesB.prefix(wanted), "\(successesA) vs \(successesB)")
        #expect(b.allSatisfy { ["connected", "route_success", "key_revoked"].contains($0["event"] ?? "") }, "the types filter holds")
        let ids = successesA.compactMap(UInt64.init)
        #expect(ids == ids.sorted(), "in sequence order")

        // Resume after the third success: the rest (and the revocation) come back from the ring.
        let resumeFrom = successesA[2]
        let resumed = try await frames(server, lastEventID: resumeFrom) { $0.contains { $0["event"] == "key_revoked" } }
        let replayed = resumed.filter { $0["event"] == "route_success" }.compactMap { $0["id"] }
        #expect(Array(successesA.dropFirst(3).prefix(wanted - 3)) == Array(replayed.prefix(wanted - 3)), "\(replayed)")
        #expect(!resumed.contains { $0["event"] == "gap" })

        let everything = (a + b + resumed).map { $0.values.joined(separator: " ") }.joined(separator: "\n")
        #expect(!everything.contains(testAdminToken) && !everything.contains(key) && !everything.contains("secret prompt"))
        await server.stopped()
    }

    @Test("a bad Last-Event-ID is a 400 naming the header")
    func badLastEventID() async throws {
        let (_, config) = try StoreIntegrationTests.storeConfig()
        let server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let answer = try await HTTPTestClient.admin(server.baseURL).request("GET", "/admin/v1/events", headers: ["Last-Event-ID": "yesterday"])
        #expect(answer.status == 400)
        #expect(String(decoding: answer.body, as: UTF8.self).contains("Last-Event-ID"))
        await server.stopped()
    }

    @Test("a failing provider: /admin/v1/health shows it degraded with its last error class, and the stream carries escalation, health_change and route_error")
    func providerHealth() async throws {
        let mock = try await MockUpstream()
        mock.script("flaky", Array(repeating: .status(500, body: #"{"error":"boom"}"#), count: 20))
        let database = try TestPaths.makeTemporaryDirectory("health").appendingPathComponent("tokenhub.db").path
        let config = try writeConfig("""
        dispatch:
          chain: [DirectDispatch]
        store:
          plugin: SQLiteStore
          config: {path: \(database)}
        providers:
          - {id: mock, type: openai, base_url: \(mock.openAIBaseURL), api_key: sk-test}
          - {id: echo, type: echo}
        models:
          - {id: flaky, provider: mock, weight: 5}
        """)
        let server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        let before = try await client.get("/admin/v1/health")
        let echo = before.json?["providers"]?.arrayValue?.first { $0["id"]?.stringValue == "echo" }
        #expect(echo?["state"]?.stringValue == "healthy" && echo?["note"]?.stringValue == "not called yet", "\(before.json ?? .null)")
        async let watched = frames(server, "/admin/v1/events?types=health_change,route_error,escalation") { frames in
            frames.contains { $0["event"] == "health_change" } && frames.contains { $0["event"] == "route_error" }
                && frames.contains { $0["event"] == "escalation" }
        }
        try await Task.sleep(for: .milliseconds(300))
        for _ in 0..<3 {
            _ = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}],"model_hint":"flaky"}}"#)
        }
        let events = try await watched
        let change = try #require(events.first { $0["event"] == "health_change" }?["data"])
        #expect(change.contains(#""provider":"mock""#), "\(change)")
        let step = try #require(events.first { $0["event"] == "escalation" }?["data"])
        #expect(step.contains(#""from_model":"flaky""#) && step.contains(#""error_class":"transient""#) && step.contains(#""request_id":"req-"#), "\(step)")
        let after = try await client.get("/admin/v1/health")
        let mockHealth = try #require(after.json?["providers"]?.arrayValue?.first { $0["id"]?.stringValue == "mock" })
        #expect(["degraded", "down"].contains(mockHealth["state"]?.stringValue ?? ""), "\(mockHealth)")
        #expect(mockHealth["last_error_class"]?.stringValue == "transient", "\(mockHealth)")
        #expect(mockHealth["last_change_unix_ms"]?.numberValue ?? 0 > 0)
        #expect((mockHealth["error_rate"]?.numberValue ?? 0) > 0)
        await server.stopped()
        mock.stop()
    }

    @Test("GET /admin/v1/stats counts what was sent, and a restart with the store rebuilds the windows")
    func statsSurviveRestart() async throws {
        let (_, config) = try StoreIntegrationTests.storeConfig()
        var server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        var client = HTTPTestClient.admin(server.baseURL)
        for _ in 0..<7 { _ = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"count me"}]}}"#) }
        let live = try await client.get("/admin/v1/stats")
        #expect(live.json?["windows"]?["1m"]?["global"]?["requests"] == .number(7), "\(live.json ?? .null)")
        #expect(live.json?["windows"]?["1h"]?["by_model"]?["echo-1"]?["requests"] == .number(7))
        #expect(live.json?["windows"]?["1m"]?["global"]?["latency_ms"]?["p99"] != nil)
        #expect(await server.stopped() == 0)

        server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        client = HTTPTestClient.admin(server.baseURL)
        var rebuilt: JSONValue?
        for _ in 0..<50 {
            rebuilt = try await client.get("/admin/v1/stats").json?["windows"]?["1h"]?["global"]?["requests"]
            if rebuilt == .number(7) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(rebuilt == .number(7), "the 1 h window after a restart")
        await server.stopped()
    }

    @Test("reloads on the stream: plugin_loaded and config_reloaded for a good one, plugin_failed and config_rejected for a broken plugin")
    func reloadEvents() async throws {
        let relay = try await CPluginBuilder.build("relay_dispatch")
        let base = "dispatch: {chain: [DirectDispatch]}\n\(echoRegistryYAML)\n"
        let path = try writeConfig(base)
        let server = try await RunningTokenhub.start(configPath: path, environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        // The first generation's plugin was announced at start (read back from the ring).
        let atStart = try await frames(server, "/admin/v1/events?types=plugin_loaded", lastEventID: "0") { frames in
            frames.contains { $0["event"] == "plugin_loaded" }
        }.filter { $0["event"] == "plugin_loaded" }.compactMap { $0["data"].flatMap { try? JSONValue.parse(Array($0.utf8)) } }
        #expect(atStart.count == 1 && atStart.first?["generation"]?.numberValue == 1 && atStart.first?["instance"]?.stringValue == "direct",
                "\(atStart)")
        async let watched = frames(server, "/admin/v1/events?types=plugin_loaded,plugin_failed,config_reloaded,config_rejected") { frames in
            frames.contains { $0["event"] == "config_rejected" }
        }
        try await Task.sleep(for: .milliseconds(300))
        try base.replacingOccurrences(of: "[DirectDispatch]", with: "[{plugin: \(relay), name: relay}, DirectDispatch]")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await client.post("/admin/v1/reload", body: "").status == 200)
        try base.replacingOccurrences(of: "[DirectDispatch]", with: "[NoSuchPlugin]").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await client.post("/admin/v1/reload", body: "").status == 422)
        let events = try await watched.compactMap { $0["event"] }
        #expect(events == ["connected", "plugin_loaded", "config_reloaded", "plugin_failed", "config_rejected"], "\(events)")
        await server.stopped()
    }
}
