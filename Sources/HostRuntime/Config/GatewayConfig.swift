import TemporalKit
import Engine
import TokenHubCore

/// Everything `config.yaml` says, validated and with environment overrides applied.
public struct GatewayConfig: Sendable {
    /// The HTTP server.
    public var server: ServerConfig
    /// Where plugin libraries are found; nil means next to the executable.
    public var pluginDirectory: String?
    /// The dispatch chain, in order.
    public var dispatch: [PluginReference]
    /// The store plugin, if any.
    public var store: PluginReference?
    /// Telemetry plugins.
    public var telemetry: [PluginReference]
    /// Upstream providers.
    public var providers: [ProviderSpec]
    /// Routable models.
    public var models: [ModelSpec]
    /// Policy defaults for requests that do not say.
    public var routing: Policy
    /// The seed's Temporal settings (`TOKENHUB_TEMPORAL_*`).
    public var temporal: TemporalSettings
    /// Days of TSDB points the store keeps (`retention.tsdb_days`, default 30; 0 = forever).
    public var tsdbRetentionDays: Int = 30
    /// Where this config came from: a path or "embedded default config".
    public var source: String
}

/// The HTTP server's settings.
public struct ServerConfig: Sendable {
    /// Interface to bind, e.g. 127.0.0.1 or 0.0.0.0.
    public var host: String
    /// TCP port; 0 picks a free one.
    public var port: Int
    /// Bearer token for `/admin/v1`; nil turns the admin API off.
    public var adminToken: String?
    /// A file holding the secret key provider keys are sealed with (`TOKENHUB_SECRET_KEY`
    /// wins over it); see `SecretKeyring`.
    public var secretKeyFile: String?
    /// Largest accepted request body.
    public var bodyLimitBytes: Int
    /// Whether `/v1/*` needs an API key.
    public var requireAPIKey: Bool
    /// A connection with no bytes arriving for this long is closed: an idle keep-alive
    /// connection, a request head that never completes, a body that stops arriving.
    public var idleTimeoutMs = 60_000
    /// Connections served at once; past it the listener stops accepting until one closes.
    public var maxConnections = 4096
    /// The longest a request body may take to arrive, in all.
    public var bodyTimeoutMs = 30_000
    /// How long a graceful stop waits for the plugins to drain and stop, in all.
    public var shutdownTimeoutMs = 30_000
    /// Reload when the config file changes (`server.watch_config`, default false), as SIGHUP does.
    public var watchConfig = false
    /// The log level (`server.log_level`, default info: one of `ServerConfig.logLevels`); a
    /// reload changes it. A name, not swift-log's type: the config reader stands alone.
    public var logLevel = "info"
    /// The level names, least severe first (swift-log's).
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    /// The per-client-IP rate limit.
    public var rateLimit: RateLimitConfig = RateLimitConfig()
}

/// A per-client token bucket on `/v1/*`. Off by default; for production, start from
/// `{enabled: true, requests_per_second: 10, burst: 20}` and list your load balancers in
/// `trusted_proxies` so X-Forwarded-For is honoured for them only.
public struct RateLimitConfig: Sendable, Hashable {
    /// Whether the limit applies.
    public var enabled = false
    /// Sustained requests per second per client.
    public var requestsPerSecond = 10.0
    /// Requests a client may send at once.
    public var burst = 20
    /// Peers whose X-Forwarded-For names the real client.
    public var trustedProxies: Set<String> = []

    /// Off.
    public init() {}
}

/// A plugin instance named in config: which library, under what name, with what settings.
public struct PluginReference: Sendable, Hashable {
    /// The instance's name in logs and responses; nil means the plugin's own name.
    public var name: String?
    /// A library base name (`DirectDispatch` → `libDirectDispatch.so` in the plugin
    /// directory) or a path to a shared library.
    public var library: String
    /// Disabled entries are skipped without loading.
    public var enabled: Bool
    /// The plugin's own configuration, handed to its `create` as JSON.
    public var config: JSONValue
    /// Where it was configured (`dispatch.chain[1]`), for error messages.
    public var keyPath: String
}

/// The seed's Temporal settings.
public struct TemporalSettings: Sendable, Hashable {
    /// `TOKENHUB_TEMPORAL_ENABLED`, default false.
    public var enabled: Bool = false
    /// `TOKENHUB_TEMPORAL_HOST`, default localhost:7233.
    public var host: String = "localhost:7233"
    /// `TOKENHUB_TEMPORAL_NAMESPACE`, default tokenhub.
    public var namespace: String = "tokenhub"
    /// `TOKENHUB_TEMPORAL_TASK_QUEUE`, default tokenhub-tasks.
    public var taskQueue: String = "tokenhub-tasks"
    /// `temporal.tls`: TLS (or mTLS) to the frontend; nil is plaintext.
    public var tls: TemporalTLS?

    /// The defaults.
    public init() {}
}
