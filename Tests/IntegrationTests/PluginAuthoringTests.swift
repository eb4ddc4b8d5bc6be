import Foundation
import Testing
import TestSupport
import TokenHubCore

/// ABI 1.3 as a third-party author meets it: the documented payloads are the real ones, and
/// the canary examples (C, C under sanitizers, Rust) build from `examples/` and serve.
@Suite("Plugin authoring (ABI 1.3): documented payloads, the canary examples")
struct PluginAuthoringTests {
    /// The header's text.
    static let header: String = {
        let path = TestPaths.packageRoot.appendingPathComponent("Sources/PluginAPI/include/tokenhub_plugin.h").path
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }()

    /// The keys the header's section 6 documents for `schema` (`"key":` required, `"key"?:`
    /// optional), read from its comment block (from " * <schema>" to the next " *" line).
    static func documentedKeys(_ schema: String) -> (required: Set<String>, optional: Set<String>) {
        let lines = header.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix(" * \(schema)") }) else { return ([], []) }
        let block = lines[(start + 1)...].prefix { $0 != " *" }.joined(separator: "\n")
        var required = Set<String>(), optional = Set<String>()
        let regex = /"([a-z_]+)"(\?)?\s*:/
        for match in block.matches(of: regex) {
            if match.output.2 != nil { optional.insert(String(match.output.1)) } else { required.insert(String(match.output.1)) }
        }
        return (required, optional)
    }

    /// The member names of `value` and of the named nested objects (and the first element of
    /// the named arrays).
    static func keys(_ value: JSONValue?, nested: [String] = []) -> Set<String> {
        guard let members = value?.objectValue else { return [] }
        var keys = Set(members.keys)
        for name in nested {
            if let array = members[name]?.arrayValue { keys.formUnion(array.first?.objectValue?.keys ?? [:].keys) }
            else { keys.formUnion(members[name]?.objectValue?.keys ?? [:].keys) }
        }
        return keys
    }

    /// Every key sent is documented, and every key documented as always there is sent.
    static func expectMatches(_ schema: String, _ sent: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) {
        let documented = documentedKeys(schema)
        #expect(!documented.required.isEmpty, "no \(schema) block found in the header", sourceLocation: sourceLocation)
        let undocumented = sent.subtracting(documented.required).subtracting(documented.optional)
        #expect(undocumented.isEmpty, "\(schema): sent but not documented: \(undocumented.sorted())", sourceLocation: sourceLocation)
        let missing = documented.required.subtracting(sent)
        #expect(missing.isEmpty, "\(schema): documented but not sent: \(missing.sorted())", sourceLocation: sourceLocation)
    }

    @Test("the ChatInput, OrchestrationInput and ChatOutput a plugin really receives match the header's section 6, idempotency_key and deadline_unix_ms included")
    func payloadsMatchTheHeader() async throws {
        let library = try await CPluginBuilder.build("capture_dispatch")
        let config = try writeConfig("dispatch: {chain: [{plugin: \(library), name: capture}]}\n\(echoRegistryYAML)")
        let server = try await RunningTokenhub.start(configPath: config)
        defer { server.stop() }
        let client = HTTPTestClient(baseURL: server.baseURL)
        let sentAt = Date().timeIntervalSince1970 * 1000
        let chat = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]},"policy":{"max_latency_ms":7000}}"#,
                                         headers: ["Idempotency-Key": "authoring-1", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
        #expect(chat.status == 200, "\(String(decoding: chat.body, as: UTF8.self))")
        let input = try #require(chat.json?["response"]?["input"])
        Self.expectMatches("ChatInput", Self.keys(input, nested: ["request", "policy"]).union(Self.keys(input["request"], nested: ["messages"])))
        #expect(input["idempotency_key"] == .string("authoring-1"))
        #expect(input["traceparent"] == .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
        // The one deadline: arrival plus the policy's max_latency_ms.
        let deadline = try #require(input["deadline_unix_ms"]?.numberValue)
        #expect(abs(deadline - (sentAt + 7000)) < 3000, "deadline \(deadline) vs sent at \(sentAt) + 7000")
        let engineOutput = try #require(chat.json?["response"]?["engine_output"])
        Self.expectMatches("ChatOutput", Self.keys(engineOutput, nested: ["decision", "attempts"]))

        let plan = try await client.post("/v1/plan", body: #"{"request":{"messages":[{"role":"user","content":"x"}]},"orchestration":{"mode":"refine","iterations":1}}"#)
        #expect(plan.status == 200, "\(String(decoding: plan.body, as: UTF8.self))")
        let planInput = try #require(plan.json?["input"])
        Self.expectMatches("OrchestrationInput", Self.keys(planInput, nested: ["directive"]))
        #expect(planInput["deadline_unix_ms"]?.numberValue ?? 0 > sentAt)
    }

    @Test("the canary example builds from examples/ and serves: tagged requests go strictly to its model, the rest pass on, an unknown pinned model is a 404 naming it; one log row per request, tagged with the instance name",
          arguments: ExampleBuilder.Variant.allCases)
    func canary(_ variant: ExampleBuilder.Variant) async throws {
        let library = try await ExampleBuilder.buildCanary(variant)
        let database = try TestPaths.makeTemporaryDirectory("canary").appendingPathComponent("t.db").path
        let config = try writeConfig("""
        dispatch:
          chain:
            - {plugin: \(library), name: canary, config: {tag: "#canary", model: echo-2}}
            - {plugin: \(library), name: ghost, config: {tag: "#ghost", model: no-such-model}}
            - DirectDispatch
        store: {plugin: SQLiteStore, config: {path: \(database)}}
        providers:
          - {id: echo, type: echo}
        models:
          - {id: echo-1, provider: echo, weight: 9}
          - {id: echo-2, provider: echo, weight: 1}
        """)
        let server = try await RunningTokenhub.start(configPath: config, environment: variant.environment)
        let client = HTTPTestClient(baseURL: server.baseURL)
        func chat(_ messages: String) async throws -> HTTPTestClient.Answer {
            try await client.post("/v1/chat", body: #"{"request":{"messages":\#(messages)}}"#)
        }
        var ids: [String] = []
        // Tagged in the first user message (after a system message): the pinned model.
        for round in 0..<20 {
            let tagged = try await chat(#"[{"role":"system","content":"be brief"},{"role":"user","content":"hello #canary \#(round)"}]"#)
            #expect(tagged.status == 200, "\(String(decoding: tagged.body, as: UTF8.self))")
            #expect(tagged.json?["dispatcher"] == .string("canary"))
            #expect(tagged.json?["negotiated_model"] == .string("echo-2"))
            ids.append(tagged.json?["request_id"]?.stringValue ?? "")
            // Untagged, or tagged only in a later user message: the next dispatcher, the router's choice.
            let plain = try await chat(##"[{"role":"user","content":"hello"},{"role":"user","content":"#canary later"}]"##)
            #expect(plain.json?["dispatcher"] == .string("direct"))
            #expect(plain.json?["negotiated_model"] == .string("echo-1"))
            ids.append(plain.json?["request_id"]?.stringValue ?? "")
        }
        // A strict pin to a model that does not exist: not routed elsewhere, a 404 naming it.
        let ghost = try await chat(##"[{"role":"user","content":"#ghost"}]"##)
        #expect(ghost.status == 404)
        #expect(ghost.json?["error"]?["code"] == .string("model_not_found"))
        #expect(ghost.json?["error"]?["message"]?.stringValue?.contains("no-such-model") == true, "\(String(decoding: ghost.body, as: UTF8.self))")
        #expect(server.process.isRunning, "\(server.log)")
        #expect(await server.stopped() == 0)
        #expect(!server.log.contains("AddressSanitizer") && !server.log.contains("runtime error"), "\(server.log)")
        let rows = try await Subprocess.running("/usr/bin/env", ["sqlite3", database, "SELECT dispatcher, model_id, COUNT(*) FROM request_logs GROUP BY dispatcher, model_id ORDER BY dispatcher"])
        #expect(rows.stdout == "canary|echo-2|20\ndirect|echo-1|20\nghost||1\n", "\(rows.stdout) \(rows.stderr)")
        #expect(Set(ids).count == 40)
    }

    @Test("the C canary is at most 80 lines that are neither blank nor comments")
    func canaryIsShort() throws {
        let path = TestPaths.packageRoot.appendingPathComponent("examples/canary-c/canary.c").path
        let source = try String(contentsOfFile: path, encoding: .utf8)
        var inComment = false
        var count = 0
        for line in source.components(separatedBy: "\n") {
            var code = line.trimmingCharacters(in: .whitespaces)
            if inComment {
                guard let end = code.range(of: "*/") else { continue }
                code = String(code[end.upperBound...]).trimmingCharacters(in: .whitespaces)
                inComment = false
            }
            if code.hasPrefix("/*") {
                if let end = code.range(of: "*/") { code = String(code[end.upperBound...]).trimmingCharacters(in: .whitespaces) }
                else { inComment = true; continue }
            }
            if code.hasPrefix("//") || code.isEmpty { continue }
            count += 1
        }
        #expect(count <= 80, "canary.c has \(count) lines of code")
        #expect(count > 40, "the count looks wrong: \(count)")
    }
}
