import Foundation
import HostRuntime
import Testing
import TestSupport
import TokenHubCore

/// Provider keys set through the admin API: sealed at rest, never shown, dropped when the
/// provider moves to another host, rotated with `tokenhub secrets rotate`.
@Suite("Provider keys at rest", .serialized)
struct ProviderKeyTests {
    static let secretValue = "sk-live-PROVIDER-SECRET-4711"

    /// DirectDispatch, SQLiteStore, PrometheusTelemetry and the echo registry.
    static func config() throws -> (database: String, config: String) {
        try StoreIntegrationTests.storeConfig(extra: "telemetry: [PrometheusTelemetry]\n")
    }

    func sqliteDump(_ database: String) async throws -> String {
        // The WAL holds recent writes until a checkpoint: read both through sqlite3 itself.
        try await Subprocess.running("/usr/bin/env", ["sqlite3", database, ".dump"]).stdout
    }

    func rawBytes(_ database: String) -> String {
        var text = ""
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: database + suffix) { text += String(decoding: data, as: UTF8.self) }
        }
        return text
    }

    @Test("a key is sealed in the store, works upstream, never appears in the database, answers, metrics or log; a base_url change drops it")
    func sealedAndDropped() async throws {
        let mock = try await MockUpstream()
        let other = try await MockUpstream()
        let (database, config) = try Self.config()
        let secretKey = SecretKeyring.generateKeyText()
        var environment = adminEnvironment
        environment["TOKENHUB_SECRET_KEY"] = secretKey
        let server = try await RunningTokenhub.start(configPath: config, environment: environment)
        let client = HTTPTestClient.admin(server.baseURL)

        let created = try await client.post("/admin/v1/providers", body: #"{"id":"live","type":"openai","base_url":"\#(mock.openAIBaseURL)","api_key":"\#(Self.secretValue)"}"#)
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        #expect(try await client.post("/admin/v1/models", body: #"{"id":"live-model","provider":"live"}"#).status == 201)
        let chat = try await client.post("/v1/chat/completions", body: #"{"model":"live-model","messages":[{"role":"user","content":"x"}]}"#)
        #expect(chat.status == 200)
        #expect(mock.calls.last?.headers["authorization"] == "Bearer \(Self.secretValue)", "the sealed key opens and is sent upstream")

        var answers = [created]
        answers.append(try await client.get("/admin/v1/providers"))
        answers.append(try await client.get("/metrics"))
        answers.append(try await client.get("/healthz"))
        for answer in answers { #expect(!String(decoding: answer.body, as: UTF8.self).contains(Self.secretValue)) }
        #expect(!rawBytes(database).contains(Self.secretValue), "the key is in the database file")
        #expect(try await sqliteDump(database).contains("thk1:"), "the stored record holds a sealed value")
        #expect(!(try await sqliteDump(database)).contains(Self.secretValue))

        // Moving the provider to another host without resending the key drops the key.
        let moved = try await client.request("PATCH", "/admin/v1/providers/live", body: #"{"base_url":"\#(other.openAIBaseURL)"}"#)
        #expect(moved.status == 200)
        #expect(moved.json?["api_key_dropped"] == .bool(true))
        #expect(moved.json?["has_api_key"] == .bool(false))
        _ = try await client.post("/v1/chat/completions", body: #"{"model":"live-model","messages":[{"role":"user","content":"x"}]}"#)
        #expect(other.calls.last != nil && other.calls.last?.headers["authorization"] == nil, "the old key went to the new host")
        // A patch that changes nothing about the host keeps a key sent with it.
        let rekeyed = try await client.request("PATCH", "/admin/v1/providers/live", body: #"{"api_key":"\#(Self.secretValue)"}"#)
        #expect(rekeyed.json?["has_api_key"] == .bool(true))
        let renamedTimeout = try await client.request("PATCH", "/admin/v1/providers/live", body: #"{"timeout_ms":5000}"#)
        #expect(renamedTimeout.json?["has_api_key"] == .bool(true))
        #expect(renamedTimeout.json?["api_key_dropped"] == nil)
        #expect(await server.stopped() == 0)
        #expect(!server.log.contains(Self.secretValue), "the key is in the log")
        #expect(!server.log.contains(secretKey), "the secret key is in the log")

        // A wrong secret key is a clear startup error, not a garbage decrypt.
        var wrong = environment
        wrong["TOKENHUB_SECRET_KEY"] = SecretKeyring.generateKeyText()
        let refused = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", config], environment: ProcessInfo.processInfo.environment.merging(wrong) { $1 })
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("was sealed with secret key") && refused.stderr.contains("not configured"), "\(refused.stderr)")
        withExtendedLifetime((mock, other)) {}
    }

    @Test("without a secret key, storing a provider key is refused naming TOKENHUB_SECRET_KEY; config-file keys keep working")
    func noSecretKey() async throws {
        let mock = try await MockUpstream()
        let (database, config) = try StoreIntegrationTests.storeConfig(registry: """
        providers:
          - {id: fromfile, type: openai, base_url: "\(mock.openAIBaseURL)", api_key: "${FILE_PROVIDER_KEY}"}
        models:
          - {id: file-model, provider: fromfile}
        """)
        var environment = adminEnvironment
        environment["FILE_PROVIDER_KEY"] = "sk-file-key-0042"
        let server = try await RunningTokenhub.start(configPath: config, environment: environment)
        defer { server.stop() }
        let client = HTTPTestClient.admin(server.baseURL)
        let refused = try await client.post("/admin/v1/providers", body: #"{"id":"x","type":"openai","base_url":"http://127.0.0.1:9/v1","api_key":"sk-nope"}"#)
        #expect(refused.status == 400)
        #expect(refused.json?["error"]?["code"] == .string("secret_key_required"))
        #expect(refused.json?["error"]?["message"]?.stringValue?.contains("TOKENHUB_SECRET_KEY") == true)
        let chat = try await client.post("/v1/chat/completions", body: #"{"model":"file-model","messages":[{"role":"user","content":"x"}]}"#)
        #expect(chat.status == 200)
        #expect(mock.calls.last?.headers["authorization"] == "Bearer sk-file-key-0042")
        await server.stopped()
        #expect(!rawBytes(database).contains("sk-file-key-0042"), "a config-file key was copied into the store")
    }

    @Test("secrets rotate re-seals every stored key under the new secret key; the old key alone then no longer starts")
    func rotation() async throws {
        let mock = try await MockUpstream()
        let (database, config) = try Self.config()
        let oldKey = SecretKeyring.generateKeyText(), newKey = SecretKeyring.generateKeyText()
        var environment = adminEnvironment
        environment["TOKENHUB_SECRET_KEY"] = oldKey
        let server = try await RunningTokenhub.start(configPath: config, environment: environment)
        let client = HTTPTestClient.admin(server.baseURL)
        for index in 0..<3 {
            let created = try await client.post("/admin/v1/providers", body: #"{"id":"p\#(index)","type":"openai","base_url":"\#(mock.openAIBaseURL)","api_key":"sk-rotate-\#(index)"}"#)
            #expect(created.status == 201)
        }
        #expect(try await client.post("/admin/v1/models", body: #"{"id":"rot","provider":"p2"}"#).status == 201)
        #expect(await server.stopped() == 0)
        let oldID = try SecretKeyring.key(from: oldKey, source: "test").id
        let newID = try SecretKeyring.key(from: newKey, source: "test").id
        #expect(try await sqliteDump(database).components(separatedBy: "thk1:\(oldID)").count - 1 == 3)

        let rotateEnvironment = ProcessInfo.processInfo.environment.merging(["TOKENHUB_SECRET_KEY": newKey, "TOKENHUB_SECRET_KEY_PREVIOUS": oldKey]) { $1 }
        let rotated = try await Subprocess.running(TestPaths.tokenhub.path, ["secrets", "rotate", "--config", config], environment: rotateEnvironment)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.contains("re-sealed 3"), "\(rotated.stdout)")
        let dump = try await sqliteDump(database)
        #expect(dump.components(separatedBy: "thk1:\(newID)").count - 1 == 3, "every row re-sealed")
        #expect(!dump.contains("thk1:\(oldID)"))
        let again = try await Subprocess.running(TestPaths.tokenhub.path, ["secrets", "rotate", "--config", config], environment: rotateEnvironment)
        #expect(again.stdout.contains("already current 3"), "\(again.stdout)")

        var fresh = adminEnvironment
        fresh["TOKENHUB_SECRET_KEY"] = newKey
        let restarted = try await RunningTokenhub.start(configPath: config, environment: fresh)
        let chat = try await HTTPTestClient(baseURL: restarted.baseURL).post("/v1/chat/completions", body: #"{"model":"rot","messages":[{"role":"user","content":"x"}]}"#)
        #expect(chat.status == 200)
        #expect(mock.calls.last?.headers["authorization"] == "Bearer sk-rotate-2")
        restarted.stop()
        let oldOnly = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", config],
                                         environment: ProcessInfo.processInfo.environment.merging(["TOKENHUB_SECRET_KEY": oldKey]) { $1 })
        #expect(oldOnly.status == 1)
    }
}
