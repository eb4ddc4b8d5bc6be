/// The documented `TOKENHUB_*` variables, applied over the file's values.
public enum EnvironmentOverrides {
    /// Every variable this host reads, with what it overrides.
    public static let documented: [(name: String, meaning: String)] = [
        ("TOKENHUB_CONFIG", "path of the config file (default: ./config.yaml, else the embedded default)"),
        ("TOKENHUB_LISTEN_ADDR", "server.listen, host:port"),
        ("TOKENHUB_ADMIN_TOKEN", "server.admin_token"),
        ("TOKENHUB_PLUGIN_DIR", "plugins.dir"),
        ("TOKENHUB_TEMPORAL_ENABLED", "temporal.enabled (default false)"),
        ("TOKENHUB_TEMPORAL_HOST", "temporal.host (default localhost:7233)"),
        ("TOKENHUB_TEMPORAL_NAMESPACE", "temporal.namespace (default tokenhub)"),
        ("TOKENHUB_TEMPORAL_TASK_QUEUE", "temporal.task_queue (default tokenhub-tasks)"),
    ]

    static func apply(_ environment: [String: String], to config: inout GatewayConfig) throws(ConfigError) {
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        if let listen = value("TOKENHUB_LISTEN_ADDR") {
            guard let address = ListenAddress(listen) else {
                throw ConfigError(.badValue, source: "TOKENHUB_LISTEN_ADDR", keyPath: "server.listen",
                                  message: "expected host:port (e.g. 127.0.0.1:8080), got \"\(listen)\"")
            }
            (config.server.host, config.server.port) = (address.host, address.port)
        }
        if let token = value("TOKENHUB_ADMIN_TOKEN") { config.server.adminToken = token }
        if let dir = value("TOKENHUB_PLUGIN_DIR") { config.pluginDirectory = dir }
        if let enabled = value("TOKENHUB_TEMPORAL_ENABLED") {
            switch enabled.lowercased() {
            case "true", "1": config.temporal.enabled = true
            case "false", "0": config.temporal.enabled = false
            default:
                throw ConfigError(.badValue, source: "TOKENHUB_TEMPORAL_ENABLED", keyPath: "temporal.enabled",
                                  message: "expected true or false, got \"\(enabled)\"")
            }
        }
        if let host = value("TOKENHUB_TEMPORAL_HOST") { config.temporal.host = host }
        if let namespace = value("TOKENHUB_TEMPORAL_NAMESPACE") { config.temporal.namespace = namespace }
        if let queue = value("TOKENHUB_TEMPORAL_TASK_QUEUE") { config.temporal.taskQueue = queue }
    }
}
