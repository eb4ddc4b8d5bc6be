import AsyncHTTPClient
import Foundation
import HostRuntime
import NIOCore
import NIOHTTP1
import Testing
import TestSupport
import TokenHubCore

/// API keys and the admin API through a running `tokenhub serve` with the SQLite store.
@Suite("API keys and the admin API", .serialized)
struct APIKeyAdminTests {
    static let adminToken = "admin-secret-token-for-tests"

    func startServer() async throws -> (RunningTokenhub, String) {
        let database = try TestPaths.makeTemporaryDirectory("keys").appendingPathComponent("tokenhub.db").path
        let config = try writeConfig("""
        server:
          require_api_key: true
          admin_token: \(Self.adminToken)
        dispatch:
          chain: [DirectDispatch]
        store:
          plugin: SQLiteStore
          config: {path: \(database)}
        providers:
          - {id: echo, type: echo}
        models:
          - {id: echo-1, provider: echo, input_price_per_1k: 1.0, output_price_per_1k: 1.0}
        routing:
          max_budget_usd: 100
        """)
        return (try await RunningTokenhub.start(configPath: config), database)
    }

    var admin: [(String, String)] { [("Authorization", "Bearer \(Self.adminToken)")] }
    let chat = #"{"request":{"messages":[{"role":"user","content":"hello with a key"}]}}"#

    @Test("every admin route answers 401 without the admin token")
    func adminNeedsToken() async throws {
        let (server, _) = try await startServer()
        for endpoint in AdminEndpoint.allCases {
            let path = "/admin/v1/" + endpoint.path.replacingOccurrences(of: ":id", with: "key_x")
            let method = HTTPMethod(rawValue: endpoint.method.rawValue)
            let bare = try await send(server, method, path, body: "{}")
            #expect(bare.status == 401, "\(endpoint.method) \(path)")
            let wrong = try await send(server, method, path, body: "{}", headers: [("Authorization", "Bearer nope")])
            #expect(wrong.status == 401, "\(endpoint.method) \(path) with a wrong token")
        }
        await server.stopped()
    }

    @Test("key lifecycle: create, use, scope, disable, rotate, delete; audit rows carry no secret")
    func lifecycle() async throws {
        let (server, database) = try await startServer()
        #expect(try await send(server, .POST, "/v1/chat", body: chat).status == 401)
        #expect(try await send(server, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer tokenhub_wrong")]).status == 401)

        let created = try await send(server, .POST, "/admin/v1/apikeys", body: #"{"name":"ci","scopes":["chat"]}"#, headers: admin)
        #expect(created.status == 201)
        let key = try #require(created.json?["key"]?.stringValue)
        let id = try #require(created.json?["id"]?.stringValue)
        #expect(key.hasPrefix("tokenhub_") && key.count == 9 + 64)
        #expect(created.json?["key_hash"] == nil)

        let listed = try await send(server, .GET, "/admin/v1/apikeys", headers: admin)
        #expect(listed.json?["keys"]?.arrayValue?.first?["id"] == .string(id))
        let listedText = String(decoding: listed.body, as: UTF8.self)
        #expect(!listedText.contains(key) && !listedText.contains("key_hash"), "a key is shown once, and hashes never")

        let used = try await send(server, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(key)")])
        #expect(used.status == 200)
        #expect(try await send(server, .POST, "/v1/chat/completions", body: #"{"model":"echo-1","messages":[{"role":"user","content":"x"}]}"#,
                               headers: [("x-api-key", key)]).status == 200)
        let plan = try await send(server, .POST, "/v1/plan", body: #"{"request":{"messages":[{"role":"user","content":"p"}]},"orchestration":{"mode":"planning"}}"#,
                                  headers: [("Authorization", "Bearer \(key)")])
        #expect(plan.status == 403, "the key has only the chat scope")

        let disabled = try await send(server, .PATCH, "/admin/v1/apikeys/\(id)", body: #"{"enabled":false}"#, headers: admin)
        #expect(disabled.status == 200)
        #expect(try await send(server, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(key)")]).status == 401,
                "a disabled key fails on the very next request")
        _ = try await send(server, .PATCH, "/admin/v1/apikeys/\(id)", body: #"{"enabled":true}"#, headers: admin)

        let rotated = try await send(server, .POST, "/admin/v1/apikeys/\(id)/rotate", headers: admin)
        let newKey = try #require(rotated.json?["key"]?.stringValue)
        #expect(try await send(server, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(key)")]).status == 401)
        #expect(try await send(server, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(newKey)")]).status == 200)

        let badPatch = try await send(server, .PATCH, "/admin/v1/apikeys/\(id)", body: #"{"scopes":["root"]}"#, headers: admin)
        #expect(badPatch.status == 400)
        #expect(badPatch.json?["error"]?["param"] == .string("scopes"))
        #expect(try await send(server, .DELETE, "/admin/v1/apikeys/\(id)", headers: admin).status == 204)
        #expect(try await send(server, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(newKey)")]).status == 401)
        #expect(try await send(server, .DELETE, "/admin/v1/apikeys/\(id)", headers: admin).status == 404)

        let audit = try await send(server, .GET, "/admin/v1/audit?limit=20", headers: admin)
        let actions = audit.json?["rows"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
        #expect(actions == ["apikey.delete", "apikey.rotate", "apikey.update", "apikey.update", "apikey.create"])
        let auditText = String(decoding: audit.body, as: UTF8.self)
        #expect(!auditText.contains(key) && !auditText.contains(newKey))

        let logs = try await send(server, .GET, "/admin/v1/logs?limit=50", headers: admin)
        let keyIDs = Set(logs.json?["rows"]?.arrayValue?.compactMap { $0["api_key_id"]?.stringValue } ?? [])
        #expect(keyIDs == [id], "every logged request carries the key's id")
        // The filters run in the store, across pages: total counts what matched.
        let allTotal = try #require(logs.json?["total"]?.numberValue)
        let hourAgo = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3600))
        let byKey = try await send(server, .GET, "/admin/v1/logs?limit=1&key=\(id)&since=\(hourAgo)", headers: admin)
        #expect(byKey.json?["total"]?.numberValue == allTotal && byKey.json?["rows"]?.arrayValue?.count == 1)
        for query in ["key=nobody", "status=no-such-status", "until=1000", "provider=nowhere"] {
            let none = try await send(server, .GET, "/admin/v1/logs?\(query)", headers: admin)
            #expect(none.status == 200 && none.json?["total"] == .number(0), "\(query)")
        }
        let badTime = try await send(server, .GET, "/admin/v1/logs?since=yesterday", headers: admin)
        #expect(badTime.status == 400 && String(decoding: badTime.body, as: UTF8.self).contains("since"))
        await server.stopped()
        let stored = try await Subprocess.running("/usr/bin/env", ["sqlite3", database, "SELECT key_hash FROM api_keys; SELECT detail FROM audit_logs;"])
        #expect(!stored.stdout.contains(key) && !stored.stdout.contains(newKey), "the database holds hashes only")
        #expect(!server.log.contains(key) && !server.log.contains(Self.adminToken), "no secret in the log")
    }

    @Test("a key over its monthly budget gets 429 with the budget and the spend")
    func budget() async throws {
        let (server, _) = try await startServer()
        let created = try await send(server, .POST, "/admin/v1/apikeys", body: #"{"name":"tight","monthly_budget_usd":0.001}"#, headers: admin)
        let key = try #require(created.json?["key"]?.stringValue)
        let auth = [("Authorization", "Bearer \(key)")]
        #expect(try await send(server, .POST, "/v1/chat", body: chat, headers: auth).status == 200)
        var limited: HTTPTestClient.Answer?
        for _ in 0..<50 {  // the first request's row is written just after its answer
            let answer = try await send(server, .POST, "/v1/chat", body: chat, headers: auth)
            if answer.status == 429 { limited = answer; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let answer = try #require(limited, "the key never went over budget")
        #expect(answer.json?["error"]?["code"] == .string("budget_exceeded"))
        #expect(answer.json?["error"]?["message"]?.stringValue?.contains("budget $0.0010") == true)
        #expect(answer.json?["error"]?["message"]?.stringValue?.contains("spent $") == true)
        await server.stopped()
    }

    @Test("config: API keys need a store; without an admin token the admin API is off, on any address")
    func securityConfig() async throws {
        let noStore = try writeConfig("server:\n  require_api_key: true\n")
        let first = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", noStore])
        #expect(first.status == 1)
        #expect(first.stderr.contains("server.require_api_key: API keys live in the store"), "\(first.stderr)")
        let database = try TestPaths.makeTemporaryDirectory("keys").appendingPathComponent("t.db").path
        let open = try writeConfig("server:\n  listen: 0.0.0.0:0\nstore:\n  plugin: SQLiteStore\n  config: {path: \(database)}\n")
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENHUB_ADMIN_TOKEN"] = nil
        let second = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", open], environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
    }

    @Test("without an admin token every admin route answers 403 naming the setting, and the log says the admin API is off")
    func adminOffWithoutToken() async throws {
        let config = try writeConfig("server:\n  listen: 127.0.0.1:0\n")
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENHUB_ADMIN_TOKEN"] = nil
        let server = try await RunningTokenhub.start(configPath: config, environment: environment)
        defer { server.stop() }
        let client = HTTPTestClient(baseURL: server.baseURL)
        for endpoint in AdminEndpoint.allCases {
            let path = "/admin/v1/" + endpoint.path.replacingOccurrences(of: ":id", with: "x").replacingOccurrences(of: "**", with: "m")
            let answer = try await client.request(endpoint.method.rawValue, path, body: "{}")
            #expect(answer.status == 403, "\(endpoint) \(path): \(answer.status)")
            #expect(answer.json?["error"]?["code"] == .string("admin_api_disabled"))
            #expect(answer.json?["error"]?["message"]?.stringValue?.contains("server.admin_token") == true)
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.log.contains("admin API is off"), "\(server.log)")
    }
}
