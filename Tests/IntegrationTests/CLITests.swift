import Foundation
import Testing
import TestSupport

/// `tokenhub check-config` and `tokenhub plugins` as an operator runs them.
@Suite("tokenhub CLI")
struct CLITests {
    func tokenhub(_ arguments: [String]) async throws -> Subprocess.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENHUB_CONFIG"] = nil
        return try await Subprocess.running(TestPaths.tokenhub.path, arguments, environment: environment)
    }

    @Test("check-config accepts the repository's config.yaml")
    func acceptsDefault() async throws {
        let path = TestPaths.packageRoot.appendingPathComponent("config.yaml").path
        let result = try await tokenhub(["check-config", "--config", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("config OK"))
    }

    @Test("check-config rejects a wrong type with the key path and line")
    func wrongType() async throws {
        let config = try writeConfig("server:\n  listen: 127.0.0.1:0\n  require_api_key: sometimes\n")
        let result = try await tokenhub(["check-config", "--config", config])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(config):3:"), "\(result.stderr)")
        #expect(result.stderr.contains("server.require_api_key: expected true or false"))
    }

    @Test("check-config rejects bad YAML with the line")
    func badYAML() async throws {
        let config = try writeConfig("server:\n  listen: \"127.0.0.1:0\n")
        let result = try await tokenhub(["check-config", "--config", config])
        #expect(result.status != 0)
        #expect(result.stderr.contains("invalid YAML"), "\(result.stderr)")
        #expect(result.stderr.contains("\(config):"))
    }

    @Test("check-config rejects an unknown plugin by name and path")
    func unknownPlugin() async throws {
        let config = try writeConfig("dispatch:\n  chain: [NoSuchDispatch]\n")
        let result = try await tokenhub(["check-config", "--config", config])
        #expect(result.status != 0)
        #expect(result.stderr.contains("libNoSuchDispatch.so: not found"), "\(result.stderr)")
    }

    @Test("broken plugins each produce their clear error and never crash the host",
          arguments: [
            ("wrong_abi", "ABI major version mismatch: plugin has 2.0, host has 1.3"),
            ("no_entry", "missing entry symbol"),
            ("create_fails", "create failed: config.endpoint: required setting is missing"),
            ("no_dispatch", "kind not offered"),
          ])
    func brokenPlugin(fixture: String, message: String) async throws {
        let library = try await CPluginBuilder.build(fixture)
        let config = try writeConfig("dispatch:\n  chain: [\(library)]\n")
        let check = try await tokenhub(["check-config", "--config", config])
        #expect(check.status == 1, "exit 1, not a signal: \(check.stderr)")
        #expect(check.stderr.contains("plugin \(library): \(message)"), "\(check.stderr)")
        let serve = try await tokenhub(["serve", "--config", config])
        #expect(serve.status == 1)
        #expect(serve.stderr.contains(message))
    }

    @Test("a file that is not a shared object is named as such")
    func notSharedObject() async throws {
        let directory = try TestPaths.makeTemporaryDirectory()
        let bogus = directory.appendingPathComponent("libBogus.so").path
        try "#!/bin/sh\necho not a library\n".write(toFile: bogus, atomically: true, encoding: .utf8)
        let config = try writeConfig("plugins:\n  dir: \(directory.path)\ndispatch:\n  chain: [Bogus]\n")
        let result = try await tokenhub(["check-config", "--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("plugin \(bogus): not a loadable shared library"), "\(result.stderr)")
    }

    @Test("plugins lists each plugin with file, ABI, kinds and status, broken ones included")
    func listsPlugins() async throws {
        let relay = try await CPluginBuilder.build("relay_dispatch")
        let wrong = try await CPluginBuilder.build("wrong_abi")
        let config = try writeConfig("""
        dispatch:
          chain:
            - \(relay)
            - DirectDispatch
            - plugin: \(wrong)
              name: future
            - plugin: DirectDispatch
              name: spare
              enabled: false
        """)
        let result = try await tokenhub(["plugins", "--config", config])
        #expect(result.status == 1, "a broken plugin makes the listing exit 1")
        let out = result.stdout
        #expect(out.contains("dispatch.chain[0]: c-relay"), "\(out)")
        #expect(out.contains("file:    \(relay)"))
        #expect(out.contains("dispatch.chain[1]: direct"))
        #expect(out.contains("libDirectDispatch.so"))
        #expect(out.contains("abi:     1.3"))
        #expect(out.contains("kinds:   dispatch"))
        #expect(out.contains("status:  running"))
        #expect(out.contains("dispatch.chain[2]: future"))
        #expect(out.contains("status:  plugin \(wrong): ABI major version mismatch"))
        #expect(out.contains("dispatch.chain[3]: spare"))
        #expect(out.contains("status:  disabled"))
    }
}

extension CLITests {
    @Test("a plugin offering the wrong kind is refused as the store and as telemetry")
    func wrongKinds() async throws {
        let relay = try await CPluginBuilder.build("relay_dispatch")
        let asStore = try await tokenhub(["check-config", "--config", try writeConfig("store:\n  plugin: \(relay)\n")])
        #expect(asStore.status == 1)
        #expect(asStore.stderr.contains("kind not offered: `c-relay` is configured as the store, but plugin `c-relay` offers dispatch"), "\(asStore.stderr)")
        let telemetry = try await tokenhub(["check-config", "--config", try writeConfig("telemetry:\n  - \(relay)\n")])
        #expect(telemetry.status == 1)
        #expect(telemetry.stderr.contains("`c-relay` is configured as telemetry, but plugin `c-relay` offers dispatch"), "\(telemetry.stderr)")
    }
}
