import Foundation
import Testing
import TestSupport
import TokenHubCore

/// `tokenhubctl` against a running `tokenhub serve` with a SQLite store: every command once,
/// `--json` parsed, and the exit codes that scripts rely on.
@Suite("tokenhubctl end to end", .serialized)
struct TokenHubCtlTests {
    static let token = "ctl-admin-token-0123456789abcdef"

    /// Runs tokenhubctl against `server` (nil: a port nothing listens on).
    func ctl(_ server: RunningTokenhub?, _ arguments: [String], token: String = Self.token,
             extra: [String: String] = [:]) async throws -> Subprocess.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENHUB_URL"] = server?.baseURL ?? "http://127.0.0.1:9"
        environment["TOKENHUB_ADMIN_TOKEN"] = token
        for (key, value) in extra { environment[key] = value }
        return try await Subprocess.running(TestPaths.tokenhubctl.path, arguments, environment: environment)
    }

    func json(_ result: Subprocess.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        return try JSONValue.parse(Array(result.stdout.utf8))
    }

    @Test("every command once, against a running gateway: keys, providers, models, routing, logs, stats, health, reload, plugins, workflows")
    func everyCommand() async throws {
        let database = try TestPaths.makeTemporaryDirectory("ctl").appendingPathComponent("tokenhub.db").path
        let config = try writeConfig("""
        server: {require_api_key: true, admin_token: \(Self.token)}
        dispatch: {chain: [DirectDispatch]}
        store: {plugin: SQLiteStore, config: {path: \(database)}}
        providers: [{id: echo, type: echo}]
        models: [{id: echo-1, provider: echo, input_price_per_1k: 0.001, output_price_per_1k: 0.001}]
        """)
        // Provider keys set through the admin API are sealed with the secret key.
        let server = try await RunningTokenhub.start(configPath: config, environment: ["TOKENHUB_SECRET_KEY": Data(repeating: 7, count: 32).base64EncodedString()])
        defer { server.stop() }

        // Keys: create (shown once), use, show, disable (refused next), enable, rotate, revoke.
        let created = try json(try await ctl(server, ["keys", "create", "--name", "ci", "--budget", "5", "--json"]))
        let id = try #require(created["id"]?.stringValue), key = try #require(created["key"]?.stringValue)
        let table = try await ctl(server, ["keys", "create", "--name", "people"])
        #expect(table.status == 0 && table.stdout.contains("key: tokenhub_") && table.stdout.contains("shown only now"))
        let client = HTTPTestClient(baseURL: server.baseURL)
        let chat = #"{"model":"echo-1","messages":[{"role":"user","content":"hi"}]}"#
        let used = try await client.post("/v1/chat/completions", body: chat, headers: ["Authorization": "Bearer \(key)"])
        #expect(used.status == 200, "\(String(decoding: used.body, as: UTF8.self))")
        let listed = try json(try await ctl(server, ["keys", "list", "--json"]))
        let listedKey = listed["keys"]?.arrayValue?.first { $0["id"]?.stringValue == id }
        #expect((listedKey?["spend_this_month_usd"]?.numberValue ?? 0) > 0, "the key's spend this month: \(String(describing: listedKey))")
        #expect(!(try await ctl(server, ["keys", "list"])).stdout.contains(key), "a listing never shows a key")
        #expect(try json(try await ctl(server, ["keys", "show", id, "--json"]))["name"]?.stringValue == "ci")
        #expect(try await ctl(server, ["keys", "disable", id]).status == 0)
        #expect(try await client.post("/v1/chat/completions", body: chat, headers: ["Authorization": "Bearer \(key)"]).status == 401)
        #expect(try await ctl(server, ["keys", "enable", id]).status == 0)
        let rotated = try json(try await ctl(server, ["keys", "rotate", id, "--json"]))
        let newKey = try #require(rotated["key"]?.stringValue)
        #expect(newKey != key)
        #expect(try await client.post("/v1/chat/completions", body: chat, headers: ["Authorization": "Bearer \(newKey)"]).status == 200)
        #expect(try await ctl(server, ["keys", "revoke", id]).status == 0)
        #expect(try await client.post("/v1/chat/completions", body: chat, headers: ["Authorization": "Bearer \(newKey)"]).status == 401)
        let missing = try await ctl(server, ["keys", "show", "no-such-key"])
        #expect(missing.status == 1 && missing.stderr.contains("no-such-key"))

        // Registry: a provider with its key from the environment (never printed), a model, a bad value.
        let provider = try await ctl(server, ["providers", "add", "id=mock", "type=openai", "base_url=http://127.0.0.1:9/v1", "api_key_env=CTL_TEST_KEY", "--json"],
                                     extra: ["CTL_TEST_KEY": "sk-ctl-secret"])
        #expect(try json(provider)["has_api_key"] == .bool(true))
        #expect(!provider.stdout.contains("sk-ctl-secret"))
        #expect(try json(try await ctl(server, ["providers", "list", "--json"]))["providers"]?.arrayValue?.count == 2)
        #expect(try await ctl(server, ["providers", "edit", "mock", "enabled=false"]).status == 0)
        #expect(try await ctl(server, ["models", "add", "id=team/mock-1", "provider=mock", "weight=3"]).status == 0)
        #expect(try await ctl(server, ["models", "edit", "team/mock-1", "weight=4"]).status == 0)
        let models = try json(try await ctl(server, ["models", "list", "--json"]))
        #expect(models["models"]?.arrayValue?.first { $0["id"]?.stringValue == "team/mock-1" }?["weight"]?.numberValue == 4)
        let bad = try await ctl(server, ["models", "add", "id=x", "provider=mock", "weight=-3"])
        #expect(bad.status == 1 && bad.stderr.contains("weight"), "the server's validation error names the field: \(bad.stderr)")
        #expect(try await ctl(server, ["models", "delete", "team/mock-1"]).status == 0)
        #expect(try await ctl(server, ["providers", "delete", "mock"]).status == 0)

        // Routing, logs, stats, health, reload, plugins, workflows.
        #expect(try json(try await ctl(server, ["routing", "set", "mode=cheap", "--json"]))["mode"]?.stringValue == "cheap")
        #expect(try json(try await ctl(server, ["routing", "get", "--json"]))["mode"]?.stringValue == "cheap")
        let logs = try json(try await ctl(server, ["logs", "--limit", "5", "--json"]))
        #expect((logs["rows"]?.arrayValue?.count ?? 0) >= 2)
        #expect(try await ctl(server, ["logs"]).stdout.contains("echo-1"))
        let echoLogs = try json(try await ctl(server, ["logs", "--model", "echo-1", "--status", "ok", "--since", "2020-01-01T00:00:00+00:00", "--json"]))
        let echoTotal = echoLogs["total"]?.numberValue ?? 0
        #expect(echoTotal >= 2 && echoTotal <= (logs["total"]?.numberValue ?? 0), "\(echoLogs)")
        #expect(echoLogs["rows"]?.arrayValue?.allSatisfy { $0["model_id"]?.stringValue == "echo-1" && $0["status"]?.stringValue == "ok" } == true)
        #expect(try json(try await ctl(server, ["logs", "--key", "no&such=key", "--json"]))["total"] == .number(0))
        let badSince = try await ctl(server, ["logs", "--since", "yesterday"])
        #expect(badSince.status == 1 && badSince.stderr.contains("since"), "\(badSince.stderr)")
        #expect(try await ctl(server, ["logs", "-f", "--model", "echo-1"]).status == 2, "--follow with a filter is a usage error")
        let stats = try await ctl(server, ["stats", "--window", "1h"])
        #expect(stats.status == 0 && stats.stdout.contains("global") && stats.stdout.contains("model:echo-1"), "\(stats.stdout)")
        #expect(try json(try await ctl(server, ["health", "--json"]))["providers"]?.arrayValue?.first?["id"]?.stringValue == "echo")
        #expect(try json(try await ctl(server, ["reload", "--json"]))["reloaded"] == .bool(true))
        let plugins = try json(try await ctl(server, ["plugins", "--json"]))
        #expect(plugins["plugins"]?.arrayValue?.contains { $0["name"]?.stringValue == "direct" && $0["sha256"]?.stringValue?.count == 64 } == true)
        #expect(try json(try await ctl(server, ["workflows", "list", "--json"]))["temporal_enabled"] == .bool(false))

        // Follow: a request made while `logs -f` runs is printed by it.
        let follower = try BackgroundProcess("/usr/bin/env", ["TOKENHUB_URL=\(server.baseURL)", "TOKENHUB_ADMIN_TOKEN=\(Self.token)",
                                                               TestPaths.tokenhubctl.path, "logs", "-f"])
        defer { follower.stop() }
        try await Task.sleep(for: .milliseconds(500))
        let open = try await ctl(server, ["keys", "create", "--name", "follow", "--json"])
        let followKey = try #require(try json(open)["key"]?.stringValue)
        let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"follow me"}]}}"#,
                                           headers: ["Authorization": "Bearer \(followKey)"])
        let requestID = try #require(answer.json?["request_id"]?.stringValue)
        let line = try await offThread { follower.readOutput() }
        #expect(line.contains("request_id=\(requestID)") && line.hasPrefix("ok"), "logs -f printed: \(line)")
    }

    @Test("exit codes: 1 for a wrong token, 2 for bad usage, 3 for a server that is not there; errors say what to fix")
    func exitCodes() async throws {
        let config = try writeConfig("server: {admin_token: \(Self.token)}\ndispatch: {chain: [DirectDispatch]}\n\(echoRegistryYAML)")
        let server = try await RunningTokenhub.start(configPath: config)
        defer { server.stop() }
        let wrong = try await ctl(server, ["health"], token: "not-the-token")
        #expect(wrong.status == 1 && wrong.stderr.contains("401") && wrong.stderr.contains("TOKENHUB_ADMIN_TOKEN"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("not-the-token"), "the token is never echoed")
        let noToken = try await ctl(server, ["health"], token: "")
        #expect(noToken.status == 2 && noToken.stderr.contains("TOKENHUB_ADMIN_TOKEN"))
        let usage = try await ctl(server, ["keys", "frobnicate"])
        #expect(usage.status == 2, "\(usage.stderr)")
        let badValue = try await ctl(server, ["stats", "--window", "7d"])
        #expect(badValue.status == 2 && badValue.stderr.contains("--window"))
        let badPair = try await ctl(server, ["models", "add", "weight"])
        #expect(badPair.status == 2 && badPair.stderr.contains("key=value"))
        let down = try await ctl(nil, ["health"])
        #expect(down.status == 3 && down.stderr.contains("cannot reach") && down.stderr.contains("TOKENHUB_URL"), "\(down.stderr)")
        let help = try await ctl(server, ["--help"])
        #expect(help.status == 0 && help.stdout.contains("keys"))
        let completion = try await ctl(server, ["--generate-completion-script", "bash"])
        #expect(completion.status == 0 && completion.stdout.contains("tokenhubctl"))
    }
}
