import TemporalKit
import Engine
import Foundation
import TokenHubCore
import Yams

/// Reads and validates `config.yaml`. Every error names the key path and the line.
public enum ConfigLoader {
    /// Where `loadResolved` found its config.
    public static let embeddedSource = "embedded default config"

    /// Picks the config the way `tokenhub` does: `explicitPath`, else `$TOKENHUB_CONFIG`, else
    /// `./config.yaml` when it exists, else the embedded default; then applies the
    /// environment overrides.
    public static func loadResolved(
        explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> GatewayConfig {
        if let path = explicitPath ?? environment["TOKENHUB_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try load(path: path, environment: environment)
        }
        if FileManager.default.fileExists(atPath: "config.yaml") {
            return try load(path: "config.yaml", environment: environment)
        }
        return try parse(yaml: DefaultConfig.yaml, source: embeddedSource, environment: environment)
    }

    /// Reads the file at `path`.
    public static func load(path: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(.unreadable, source: path, keyPath: "", message: "cannot read the config file: \(error.localizedDescription)")
        }
        return try parse(yaml: text, source: path, environment: environment)
    }

    /// Parses YAML text, validates it and applies the environment overrides.
    public static func parse(yaml: String, source: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        let root: Node
        do {
            root = try Yams.compose(yaml: yaml) ?? Node("")
        } catch let error as YamlError {
            throw syntaxError(error, source: source)
        } catch {
            throw ConfigError(.syntax, source: source, keyPath: "", message: "\(error)")
        }
        let document = ConfigNode(node: root, keyPath: "", source: source, environment: environment)
        var config = try readDocument(document)
        try EnvironmentOverrides.apply(environment, to: &config)
        applyTemporal(&config)
        try checkSecurity(config, source: source)
        return config
    }

    /// The library that runs requests as Temporal workflows.
    public static let temporalDispatchLibrary = "TemporalDispatch"

    /// `temporal.enabled` puts TemporalDispatch first in the chain (unless the chain names it
    /// already), and every TemporalDispatch entry takes `host`, `namespace` and `task_queue`
    /// from the `temporal` section unless its own config sets them.
    static func applyTemporal(_ config: inout GatewayConfig) {
        let isTemporal: (PluginReference) -> Bool = { ($0.library as NSString).lastPathComponent.contains(temporalDispatchLibrary) }
        if config.temporal.enabled && !config.dispatch.contains(where: isTemporal) {
            config.dispatch.insert(PluginReference(name: nil, library: temporalDispatchLibrary, enabled: true, config: .object([:]),
                                                   keyPath: "temporal.enabled"), at: 0)
        }
        for index in config.dispatch.indices where isTemporal(config.dispatch[index]) {
            var members = config.dispatch[index].config.objectValue ?? [:]
            members["host"] = members["host"] ?? .string(config.temporal.host)
            members["namespace"] = members["namespace"] ?? .string(config.temporal.namespace)
            members["task_queue"] = members["task_queue"] ?? .string(config.temporal.taskQueue)
            if let tls = config.temporal.tls, members["tls"] == nil {
                members["tls"] = .object(tls.json.mapValues(JSONValue.string))
            }
            config.dispatch[index].config = .object(members)
        }
    }

    /// API keys live in the store. (Admin routes need no check here: without a token the
    /// admin API is off on every address.)
    private static func checkSecurity(_ config: GatewayConfig, source: String) throws(ConfigError) {
        if config.server.requireAPIKey && config.store == nil {
            throw ConfigError(.badValue, source: source, keyPath: "server.require_api_key",
                              message: "API keys live in the store: configure `store` (e.g. SQLiteStore) or set require_api_key: false")
        }
    }

    private static func syntaxError(_ error: YamlError, source: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let message = "invalid YAML: \(context.map { "\($0.text) " } ?? "")\(problem)"
            return ConfigError(.syntax, source: source, keyPath: "", line: mark.line, column: mark.column, message: message)
        default:
            return ConfigError(.syntax, source: source, keyPath: "", message: "invalid YAML: \(error)")
        }
    }

    private static func readDocument(_ document: ConfigNode) throws(ConfigError) -> GatewayConfig {
        var config = GatewayConfig(
            server: ServerConfig(host: "127.0.0.1", port: 8080, adminToken: nil, bodyLimitBytes: 10 << 20, requireAPIKey: false),
            pluginDirectory: nil, dispatch: [], store: nil, telemetry: [], providers: [], models: [],
            routing: Policy(), temporal: TemporalSettings(), source: document.source)
        if document.isNull { return config }
        let sections = try document.mapping(allowed: [
            "server", "plugins", "dispatch", "store", "telemetry", "providers", "models", "routing", "temporal", "retention",
        ])
        if let node = sections["server"], !node.isNull { config.server = try readServer(node, defaults: config.server) }
        if let node = sections["plugins"], !node.isNull {
            let members = try node.mapping(allowed: ["dir"])
            if let dir = members["dir"], !dir.isNull { config.pluginDirectory = try dir.string() }
        }
        if let node = sections["dispatch"], !node.isNull {
            let members = try node.mapping(allowed: ["chain"])
            if let chain = members["chain"], !chain.isNull {
                config.dispatch = try chain.sequence().map { (entry) throws(ConfigError) in try readPluginReference(entry) }
            }
        }
        if let node = sections["store"], !node.isNull { config.store = try readPluginReference(node) }
        if let node = sections["telemetry"], !node.isNull {
            config.telemetry = try node.sequence().map { (entry) throws(ConfigError) in try readPluginReference(entry) }
        }
        if let node = sections["providers"], !node.isNull { config.providers = try RegistryConfigReader.providers(node) }
        if let node = sections["models"], !node.isNull {
            config.models = try RegistryConfigReader.models(node, providers: config.providers)
        }
        if let node = sections["routing"], !node.isNull { config.routing = try RegistryConfigReader.routing(node) }
        if let node = sections["temporal"], !node.isNull { config.temporal = try readTemporal(node) }
        if let node = sections["retention"], !node.isNull {
            let members = try node.mapping(allowed: ["tsdb_days"])
            if let days = members["tsdb_days"] { config.tsdbRetentionDays = try days.int(in: 0...36_500) }
        }
        return config
    }

    private static func readServer(_ node: ConfigNode, defaults: ServerConfig) throws(ConfigError) -> ServerConfig {
        var server = defaults
        let members = try node.mapping(allowed: ["listen", "admin_token", "secret_key_file", "body_limit_bytes", "require_api_key", "rate_limit",
                                                  "idle_timeout_ms", "body_timeout_ms", "max_connections", "shutdown_timeout_ms",
                                                  "watch_config", "log_level"])
        if let listen = members["listen"] {
            let text = try listen.string()
            guard let address = ListenAddress(text) else {
                throw listen.error(.badValue, "expected host:port (e.g. 127.0.0.1:8080), got \"\(text)\"")
            }
            (server.host, server.port) = (address.host, address.port)
        }
        if let token = members["admin_token"], !token.isNull {
            let text = try token.string()
            server.adminToken = text.isEmpty ? nil : text
        }
        if let file = members["secret_key_file"], !file.isNull {
            let text = try file.string()
            server.secretKeyFile = text.isEmpty ? nil : text
        }
        if let limit = members["body_limit_bytes"] { server.bodyLimitBytes = try limit.int(in: 1...(1 << 30)) }
        if let require = members["require_api_key"] { server.requireAPIKey = try require.bool() }
        if let idle = members["idle_timeout_ms"] { server.idleTimeoutMs = try idle.int(in: 100...86_400_000) }
        if let body = members["body_timeout_ms"] { server.bodyTimeoutMs = try body.int(in: 100...86_400_000) }
        if let cap = members["max_connections"] { server.maxConnections = try cap.int(in: 1...1_000_000) }
        if let timeout = members["shutdown_timeout_ms"] { server.shutdownTimeoutMs = try timeout.int(in: 100...600_000) }
        if let watch = members["watch_config"] { server.watchConfig = try watch.bool() }
        if let level = members["log_level"] {
            let text = try level.string()
            guard ServerConfig.logLevels.contains(text) else {
                throw level.error(.badValue, "expected one of \(ServerConfig.logLevels.joined(separator: ", ")), got \"\(text)\"")
            }
            server.logLevel = text
        }
        if let limit = members["rate_limit"], !limit.isNull { server.rateLimit = try readRateLimit(limit) }
        return server
    }

    private static func readRateLimit(_ node: ConfigNode) throws(ConfigError) -> RateLimitConfig {
        var limit = RateLimitConfig()
        let members = try node.mapping(allowed: ["enabled", "requests_per_second", "burst", "trusted_proxies"])
        if let enabled = members["enabled"] { limit.enabled = try enabled.bool() }
        if let rate = members["requests_per_second"] { limit.requestsPerSecond = try rate.double(in: 0.001...1_000_000) }
        if let burst = members["burst"] { limit.burst = try burst.int(in: 1...1_000_000) }
        if let proxies = members["trusted_proxies"], !proxies.isNull {
            limit.trustedProxies = Set(try proxies.sequence().map { (proxy) throws(ConfigError) in try proxy.string() })
        }
        return limit
    }

    /// A plugin entry: a library name, or `{plugin, name, enabled, config}`.
    private static func readPluginReference(_ node: ConfigNode) throws(ConfigError) -> PluginReference {
        if case .scalar = node.node {
            let library = try node.string()
            guard !library.isEmpty else { throw node.error(.badValue, "expected a plugin name or path, got an empty string") }
            return PluginReference(name: nil, library: library, enabled: true, config: .object([:]), keyPath: node.keyPath)
        }
        let members = try node.mapping(allowed: ["plugin", "name", "enabled", "config"])
        guard let pluginNode = members["plugin"] else {
            throw node.error(.missingKey, "missing `plugin` (a library name such as DirectDispatch, or a path to a .so)")
        }
        let library = try pluginNode.string()
        guard !library.isEmpty else { throw pluginNode.error(.badValue, "expected a plugin name or path, got an empty string") }
        var reference = PluginReference(name: nil, library: library, enabled: true, config: .object([:]), keyPath: node.keyPath)
        if let name = members["name"], !name.isNull { reference.name = try name.string() }
        if let enabled = members["enabled"] { reference.enabled = try enabled.bool() }
        if let config = members["config"], !config.isNull {
            let value = try config.json()
            guard case .object = value else { throw config.error(.wrongType, "expected a mapping") }
            reference.config = value
        }
        return reference
    }

    /// `temporal.tls: {ca_file, cert_file, key_file}` (or `true` for system roots): files must
    /// exist now, and a client certificate needs its key.
    private static func readTemporalTLS(_ node: ConfigNode) throws(ConfigError) -> TemporalTLS? {
        if case .scalar = node.node { return try node.bool() ? TemporalTLS() : nil }
        let members = try node.mapping(allowed: ["ca_file", "cert_file", "key_file"])
        var tls = TemporalTLS()
        func file(_ key: String) throws(ConfigError) -> String? {
            guard let value = members[key], !value.isNull else { return nil }
            let path = try value.string()
            guard FileManager.default.isReadableFile(atPath: path) else { throw value.error(.badValue, "cannot read \(path)") }
            return path
        }
        tls.caFile = try file("ca_file")
        tls.certFile = try file("cert_file")
        tls.keyFile = try file("key_file")
        if (tls.certFile == nil) != (tls.keyFile == nil) {
            throw node.error(.badValue, "mTLS needs both cert_file and key_file")
        }
        return tls
    }

    private static func readTemporal(_ node: ConfigNode) throws(ConfigError) -> TemporalSettings {
        var settings = TemporalSettings()
        let members = try node.mapping(allowed: ["enabled", "host", "namespace", "task_queue", "tls"])
        if let tls = members["tls"], !tls.isNull { settings.tls = try readTemporalTLS(tls) }
        if let enabled = members["enabled"] { settings.enabled = try enabled.bool() }
        if let host = members["host"] { settings.host = try host.string() }
        if let namespace = members["namespace"] { settings.namespace = try namespace.string() }
        if let queue = members["task_queue"] { settings.taskQueue = try queue.string() }
        return settings
    }
}

/// `host:port`, `[v6]:port` or `:port`.
struct ListenAddress {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }
}
