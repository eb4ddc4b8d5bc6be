@testable import HostRuntime
import Testing

@Suite("Config reload rules")
struct ConfigReloadRulesTests {
    let base = """
    server: {listen: 127.0.0.1:8080, admin_token: t0123456789}
    dispatch: {chain: [DirectDispatch]}
    providers: [{id: echo, type: echo}]
    models: [{id: m1, provider: echo}]
    """

    func parse(_ yaml: String) throws -> GatewayConfig {
        try ConfigLoader.parse(yaml: yaml, source: "test.yaml", environment: [:])
    }

    @Test("registry, routing and rate-limit changes are reloadable; each is named")
    func reloadable() throws {
        let running = try parse(base)
        let candidate = try parse(base.replacingOccurrences(of: "{id: m1, provider: echo}", with: "{id: m1, provider: echo}, {id: m2, provider: echo}")
            .replacingOccurrences(of: "admin_token: t0123456789}", with: "admin_token: t0123456789, rate_limit: {enabled: true}}")
            + "\nrouting: {mode: cheap}")
        #expect(ConfigReload.restartOnlyChanges(running: running, candidate: candidate).isEmpty)
        #expect(ConfigReload.changedSections(from: running, to: candidate) == ["models", "routing", "server.rate_limit"])
        #expect(ConfigReload.changedSections(from: running, to: running).isEmpty)
    }

    @Test("each restart-only setting is named when it changes; plugin sections are not restart-only")
    func restartOnly() throws {
        let running = try parse(base)
        let changes: [(String, String)] = [
            (base.replacingOccurrences(of: "8080", with: "8081"), "server.listen"),
            (base + "\nstore: {plugin: SQLiteStore, config: {path: x.db}}", "store"),
            (base + "\nretention: {tsdb_days: 7}", "retention.tsdb_days"),
        ]
        for (yaml, key) in changes {
            #expect(ConfigReload.restartOnlyChanges(running: running, candidate: try parse(yaml)) == [key])
        }
        // The dispatch chain, the plugin directory and telemetry are a new generation's, not a restart's.
        let generational: [(String, String)] = [
            (base.replacingOccurrences(of: "[DirectDispatch]", with: "[DirectDispatch, DirectDispatch]"), "dispatch.chain"),
            (base + "\nplugins: {dir: /opt/plugins}", "plugins.dir"),
            (base + "\ntelemetry: [PrometheusTelemetry]", "telemetry"),
            (base.replacingOccurrences(of: "t0123456789", with: "t9876543210"), "server.admin_token"),
        ]
        // Another store (a different file) is a new generation's; adding one is a restart's.
        let withStore = try parse(base + "\nstore: {plugin: SQLiteStore, config: {path: a.db}}")
        let otherStore = try parse(base + "\nstore: {plugin: SQLiteStore, config: {path: b.db}}")
        #expect(ConfigReload.restartOnlyChanges(running: withStore, candidate: otherStore).isEmpty)
        #expect(ConfigReload.changedSections(from: withStore, to: otherStore) == ["store"])
        // Temporal settings too: they change the chain's TemporalDispatch (when enabled) and the admin API's connection.
        let temporal = try parse(base + "\ntemporal: {namespace: other}")
        #expect(ConfigReload.restartOnlyChanges(running: running, candidate: temporal).isEmpty)
        #expect(ConfigReload.changedSections(from: running, to: temporal) == ["temporal"])
        for (yaml, key) in generational {
            let candidate = try parse(yaml)
            #expect(ConfigReload.restartOnlyChanges(running: running, candidate: candidate).isEmpty)
            #expect(ConfigReload.changedSections(from: running, to: candidate) == [key])
        }
    }
}
