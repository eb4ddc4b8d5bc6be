import Foundation
import Testing
import TestSupport
import TokenHubCore

/// The versioning promise: a plugin built against an older header (a copy of each released
/// header is kept in Tests/Fixtures/Headers) loads and serves in this host, and the host reads
/// none of its structs past their `struct_size` (the fixture puts each at the end of a page
/// followed by an unmapped one, so reading further would crash the host).
@Suite("ABI compatibility: plugins built against every released header", .serialized)
struct ABICompatibilityTests {
    @Test("a dispatcher built against the 1.0, 1.1, 1.2 and current (1.3) headers loads and serves", arguments: ["1.0", "1.1", "1.2", "1.3"])
    func everyHeader(version: String) async throws {
        // 1.3 is the header in Sources/PluginAPI; the released ones are kept in Tests/Fixtures/Headers.
        let library = try await CPluginBuilder.build("versioned_dispatch", header: version == "1.3" ? nil : version)
        let config = try writeConfig("dispatch: {chain: [\(library)]}\n\(echoRegistryYAML)")
        let listed = try await Subprocess.running(TestPaths.tokenhub.path, ["plugins", "--config", config])
        #expect(listed.status == 0, "\(listed.stdout) \(listed.stderr)")
        #expect(listed.stdout.contains("abi:     \(version)"), "\(listed.stdout)")
        let server = try await RunningTokenhub.start(configPath: config)
        defer { server.stop() }
        let answer = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(answer.json?["negotiated_model"] == .string("built-\(version)"))
        #expect(server.process.isRunning)
    }

    @Test("ABI 1.3: an instance learns its configured name; DirectDispatch renamed in config tags its log rows with it")
    func instanceName() async throws {
        let database = try TestPaths.makeTemporaryDirectory("name").appendingPathComponent("t.db").path
        let config = try writeConfig("""
        dispatch:
          chain: [{plugin: DirectDispatch, name: primary}]
        store: {plugin: SQLiteStore, config: {path: \(database)}}
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        let answer = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
        #expect(answer.json?["dispatcher"] == .string("primary"))
        let requestID = try #require(answer.json?["request_id"]?.stringValue)
        #expect(await server.stopped() == 0)
        let row = try await Subprocess.running("/usr/bin/env", ["sqlite3", database, "SELECT dispatcher FROM request_logs WHERE request_id = '\(requestID)'"])
        #expect(row.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "primary")
    }
}
