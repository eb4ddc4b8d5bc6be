import AsyncHTTPClient
import Foundation
import HostRuntime
import NIOCore
import NIOHTTP1
import Testing
import TestSupport
import TokenHubCore

/// The registry in the store: seeded from config.yaml, changed through /admin/v1, seen by the
/// engine on the next request, kept across restarts.
@Suite("Registry admin: providers, models, routing config", .serialized)
struct RegistryAdminTests {
    static let adminToken = "registry-admin-token"
    var admin: [(String, String)] { [("Authorization", "Bearer \(Self.adminToken)")] }

    func config(_ database: String, mock: MockUpstream) throws -> String {
        try writeConfig("""
        server:
          admin_token: \(Self.adminToken)
        dispatch:
          chain: [DirectDispatch]
        store:
          plugin: SQLiteStore
          config: {path: \(database)}
        providers:
          - {id: echo, type: echo}
          - {id: mock, type: openai, base_url: \(mock.openAIBaseURL), api_key: sk-registry-provider-secret}
        models:
          - {id: echo-1, provider: echo, weight: 5}
        """)
    }

    func send(_ server: RunningTokenhub, _ method: HTTPMethod, _ path: String, body: String? = nil,
              admin: Bool = true) async throws -> HTTPTestClient.Answer {
        var request = HTTPClientRequest(url: server.baseURL + path)
        request.method = method
        if admin { for (name, value) in self.admin { request.headers.add(name: name, value: value) } }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return .init(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Data(bytes.readableBytesView))
    }

    func text(_ answer: HTTPTestClient.Answer) -> String { String(decoding: answer.body, as: UTF8.self) }

    func chat(_ server: RunningTokenhub, model: String) async throws -> HTTPTestClient.Answer {
        try await send(server, .POST, "/v1/chat/completions", body: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#, admin: false)
    }

    @Test("add a model with a slash in its id, route to it at once, disable it, keep changes across a restart")
    func registryLifecycle() async throws {
        let mock = try await MockUpstream()
        let database = try TestPaths.makeTemporaryDirectory("registry").appendingPathComponent("tokenhub.db").path
        let config = try config(database, mock: mock)
        var server = try await RunningTokenhub.start(configPath: config)

        let providers = try await send(server, .GET, "/admin/v1/providers")
        #expect(providers.status == 200)
        #expect(providers.json?["providers"]?.arrayValue?.map { $0["id"]?.stringValue } == ["echo", "mock"])
        #expect(providers.json?["providers"]?.arrayValue?.last?["has_api_key"] == .bool(true))
        #expect(!text(providers).contains("sk-registry"), "provider keys never leave the server")

        let created = try await send(server, .POST, "/admin/v1/models",
                                     body: #"{"id":"meta/llama-3","provider":"mock","weight":9,"max_context_tokens":8192}"#)
        #expect(created.status == 201, "\(text(created))")
        let listed = try await send(server, .GET, "/v1/models", admin: false)
        #expect(listed.json?["data"]?.arrayValue?.contains { $0["id"]?.stringValue == "meta/llama-3" } == true)
        let routed = try await chat(server, model: "meta/llama-3")
        #expect(routed.status == 200 && routed.json?["model"]?.stringValue == "meta/llama-3", "\(text(routed))")
        #expect(mock.callCount("meta/llama-3") == 1, "the engine saw the new model on the very next request")

        let disabled = try await send(server, .PATCH, "/admin/v1/models/meta/llama-3", body: #"{"enabled":false}"#)
        #expect(disabled.status == 200 && disabled.json?["enabled"] == .bool(false), "\(text(disabled))")
        let afterDisable = try await chat(server, model: "meta/llama-3")
        #expect(afterDisable.json?["model"]?.stringValue == "echo-1", "a disabled model is not routed to")
        #expect(mock.callCount("meta/llama-3") == 1)

        let reweighted = try await send(server, .PATCH, "/admin/v1/models/echo-1", body: #"{"weight":2}"#)
        #expect(reweighted.json?["weight"] == .number(2))
        let routing = try await send(server, .PUT, "/admin/v1/routing-config",
                                     body: #"{"mode":"cheap","max_budget_usd":0.2,"max_latency_ms":9000,"min_weight":0}"#)
        #expect(routing.status == 200 && routing.json?["mode"]?.stringValue == "cheap")

        // Bad input names the field; nothing changes.
        let badWeight = try await send(server, .POST, "/admin/v1/models", body: #"{"id":"x","provider":"mock","weight":11}"#)
        #expect(badWeight.status == 400 && badWeight.json?["error"]?["param"]?.stringValue == "weight", "\(text(badWeight))")
        let unknownField = try await send(server, .POST, "/admin/v1/models", body: #"{"id":"x","provider":"mock","colour":"red"}"#)
        #expect(unknownField.status == 400 && text(unknownField).contains("colour"), "\(text(unknownField))")
        let badProvider = try await send(server, .POST, "/admin/v1/models", body: #"{"id":"x","provider":"nope"}"#)
        #expect(badProvider.status == 400 && text(badProvider).contains("nope"))
        let badType = try await send(server, .POST, "/admin/v1/providers", body: #"{"id":"p2","type":"carrier-pigeon"}"#)
        #expect(badType.status == 400 && badType.json?["error"]?["param"]?.stringValue == "type", "\(text(badType))")
        let badMode = try await send(server, .PUT, "/admin/v1/routing-config", body: #"{"mode":"fastest"}"#)
        #expect(badMode.status == 400 && text(badMode).contains("mode"))
        let inUse = try await send(server, .DELETE, "/admin/v1/providers/mock")
        #expect(inUse.status == 409 && text(inUse).contains("meta/llama-3"))
        let noSuchModel = try await send(server, .DELETE, "/admin/v1/models/does/not/exist")
        #expect(noSuchModel.status == 404)
        // A provider patch without a key keeps the stored key.
        let patchedProvider = try await send(server, .PATCH, "/admin/v1/providers/mock", body: #"{"timeout_ms":5000}"#)
        #expect(patchedProvider.json?["has_api_key"] == .bool(true) && patchedProvider.json?["timeout_ms"] == .number(5000))
        #expect(await server.stopped() == 0)

        // Restart on the same file: the store's registry wins over config.yaml's seeds.
        server = try await RunningTokenhub.start(configPath: config)
        let models = try await send(server, .GET, "/admin/v1/models")
        let byID = Dictionary(uniqueKeysWithValues: (models.json?["models"]?.arrayValue ?? []).compactMap { m in m["id"]?.stringValue.map { ($0, m) } })
        #expect(byID["meta/llama-3"]?["enabled"] == .bool(false))
        #expect(byID["echo-1"]?["weight"] == .number(2), "the admin's weight survives the config's seed")
        #expect(try await send(server, .GET, "/admin/v1/routing-config").json?["mode"]?.stringValue == "cheap")
        #expect(try await send(server, .DELETE, "/admin/v1/models/meta%2Fllama-3").status == 204)
        #expect(try await send(server, .DELETE, "/admin/v1/providers/mock").status == 204)
        let audit = try await send(server, .GET, "/admin/v1/audit?limit=100")
        let actions = audit.json?["rows"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
        #expect(actions.contains("model.upsert") && actions.contains("model.update") && actions.contains("routing_config.put")
                && actions.contains("provider.delete"), "\(actions)")
        #expect(!text(audit).contains("sk-registry"))
        await server.stopped()
        mock.stop()
    }
}
