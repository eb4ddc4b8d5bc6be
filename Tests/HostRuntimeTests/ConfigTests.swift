import Foundation
import HostRuntime
import Testing
import TestSupport

@Suite("Config: YAML, key paths, lines, environment")
struct ConfigTests {
    func parse(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> GatewayConfig {
        try ConfigLoader.parse(yaml: yaml, source: "test.yaml", environment: environment)
    }

    func error(_ yaml: String, environment: [String: String] = [:]) -> ConfigError? {
        do {
            _ = try parse(yaml, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test("the repository's config.yaml is the embedded default, and it parses")
    func embeddedDefaultMatchesFile() throws {
        let file = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("config.yaml"), encoding: .utf8)
        let fromFile = try parse(file)
        #expect(fromFile.dispatch.map(\.library) == ["DirectDispatch"])
        #expect(fromFile.models.map(\.id) == ["echo-1"])
        #expect(fromFile.server.port == 8080)
        #expect(fromFile.temporal == TemporalSettings())

        let directory = try TestPaths.makeTemporaryDirectory()
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(directory.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let embedded = try ConfigLoader.loadResolved(explicitPath: nil, environment: [:])
        #expect(embedded.source == ConfigLoader.embeddedSource)
        #expect(embedded.models == fromFile.models)
        #expect(embedded.dispatch == fromFile.dispatch)
    }

    @Test("a wrong type names the key path and the line")
    func wrongType() {
        let failure = error("""
        server:
          listen: 127.0.0.1:9000
          body_limit_bytes: lots
        """)
        #expect(failure?.code == .wrongType)
        #expect(failure?.keyPath == "server.body_limit_bytes")
        #expect(failure?.line == 3)
        #expect(failure?.description.contains("test.yaml:3:") == true)
        #expect(failure?.description.contains("expected an integer") == true)
    }

    @Test("an unknown key is an error with the known keys listed")
    func unknownKey() {
        let failure = error("""
        server:
          listen: 127.0.0.1:9000
          lisen: 1
        """)
        #expect(failure?.code == .unknownKey)
        #expect(failure?.keyPath == "server.lisen")
        #expect(failure?.line == 3)
        #expect(failure?.message.contains("listen") == true)
    }

    @Test("invalid YAML reports the line")
    func badYAML() {
        let failure = error("server:\n  listen: [1, 2\n  admin_token: x\n")
        #expect(failure?.code == .syntax)
        #expect((failure?.line ?? 0) >= 2)
    }

    @Test("a model naming an unknown provider is rejected at its key path")
    func unknownProvider() {
        let failure = error("""
        providers:
          - id: echo
            type: echo
        models:
          - id: m1
            provider: echo
          - id: m2
            provider: nope
        """)
        #expect(failure?.keyPath == "models[1].provider")
        #expect(failure?.line == 8)
    }

    @Test("out-of-range values and bad enums are rejected")
    func badValues() {
        #expect(error("routing:\n  min_weight: 11\n")?.keyPath == "routing.min_weight")
        #expect(error("routing:\n  mode: fastest\n")?.message.contains("high_confidence") == true)
        #expect(error("server:\n  listen: nowhere\n")?.keyPath == "server.listen")
        #expect(error("providers:\n  - id: x\n    type: openai\n")?.message.contains("base_url") == true)
        #expect(error("dispatch:\n  chain:\n    - plugin: \"\"\n")?.keyPath == "dispatch.chain[0].plugin")
    }

    @Test("${VAR} expands, ${VAR:-default} falls back, an unset ${VAR} is an error")
    func environmentExpansion() throws {
        let yaml = "server:\n  admin_token: ${TOKEN}\n  listen: ${HOST:-127.0.0.1}:${PORT:-7000}\n"
        let config = try parse(yaml, environment: ["TOKEN": "s3cret", "PORT": "7100"])
        #expect(config.server.adminToken == "s3cret")
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 7100)
        let failure = error(yaml, environment: [:])
        #expect(failure?.keyPath == "server.admin_token")
        #expect(failure?.message.contains("TOKEN is not set") == true)
    }

    @Test("TOKENHUB_* variables override the file; the seed's Temporal defaults hold")
    func environmentOverrides() throws {
        let plain = try parse("")
        #expect(plain.temporal.enabled == false)
        #expect(plain.temporal.host == "localhost:7233")
        #expect(plain.temporal.namespace == "tokenhub")
        #expect(plain.temporal.taskQueue == "tokenhub-tasks")

        let overridden = try parse("server:\n  listen: 127.0.0.1:1\n", environment: [
            "TOKENHUB_LISTEN_ADDR": "0.0.0.0:9999", "TOKENHUB_ADMIN_TOKEN": "t",
            "TOKENHUB_TEMPORAL_ENABLED": "true", "TOKENHUB_TEMPORAL_HOST": "temporal:7233",
            "TOKENHUB_TEMPORAL_NAMESPACE": "ns", "TOKENHUB_TEMPORAL_TASK_QUEUE": "q",
        ])
        #expect(overridden.server.host == "0.0.0.0")
        #expect(overridden.server.port == 9999)
        #expect(overridden.server.adminToken == "t")
        #expect(overridden.temporal == {
            var expected = TemporalSettings()
            (expected.enabled, expected.host, expected.namespace, expected.taskQueue) = (true, "temporal:7233", "ns", "q")
            return expected
        }())
        let failure = error("", environment: ["TOKENHUB_TEMPORAL_ENABLED": "maybe"])
        #expect(failure?.source == "TOKENHUB_TEMPORAL_ENABLED")
    }

    @Test("plugin entries take a name or a mapping with config")
    func pluginReferences() throws {
        let config = try parse("""
        dispatch:
          chain:
            - plugin: AcmeDispatch
              name: temporal
              enabled: false
              config: {deadline_ms: 500, hosts: [a, b], label: "x"}
            - DirectDispatch
        """)
        #expect(config.dispatch.count == 2)
        #expect(config.dispatch[0].name == "temporal")
        #expect(config.dispatch[0].enabled == false)
        #expect(config.dispatch[0].config == .object(["deadline_ms": .number(500), "hosts": .array([.string("a"), .string("b")]), "label": .string("x")]))
        #expect(config.dispatch[1].library == "DirectDispatch")
        #expect(config.dispatch[1].name == nil)
    }

    @Test("temporal.enabled puts TemporalDispatch first, configured from the temporal section and TOKENHUB_TEMPORAL_*")
    func temporalDispatchFromTheTemporalSection() throws {
        let enabled = try ConfigLoader.parse(yaml: "dispatch:\n  chain: [DirectDispatch]\ntemporal:\n  enabled: true\n  namespace: ns1\n",
                                             source: "t.yaml", environment: ["TOKENHUB_TEMPORAL_HOST": "temporal.internal:7233"])
        #expect(enabled.dispatch.map(\.library) == ["TemporalDispatch", "DirectDispatch"])
        #expect(enabled.dispatch[0].config == .object(["host": .string("temporal.internal:7233"), "namespace": .string("ns1"),
                                                       "task_queue": .string("tokenhub-tasks")]))
        // An explicit entry keeps its place and its own settings.
        let explicit = try ConfigLoader.parse(yaml: """
        dispatch:
          chain:
            - DirectDispatch
            - plugin: TemporalDispatch
              config: {task_queue: mine}
        """, source: "t.yaml", environment: [:])
        #expect(explicit.dispatch.map(\.library) == ["DirectDispatch", "TemporalDispatch"])
        #expect(explicit.dispatch[1].config["task_queue"] == .string("mine"))
        #expect(explicit.dispatch[1].config["host"] == .string("localhost:7233"))
        let disabled = try ConfigLoader.parse(yaml: "dispatch:\n  chain: [DirectDispatch]\n", source: "t.yaml", environment: [:])
        #expect(disabled.dispatch.map(\.library) == ["DirectDispatch"])
    }
}
