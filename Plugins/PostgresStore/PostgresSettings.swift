import Foundation
import PluginKit
import TokenHubCore

/// The store's config: `{url, password_env?, pool_size?, tls?, commit_window_ms?, timeout_ms?}`.
///
/// `url` is `postgres://user[:password]@host[:port]/database`. The password may instead come
/// from the environment variable `password_env` names (or a `${VAR}` in the config file, which
/// the host expands). The password never appears in an error, a log line or a description:
/// `redacted` is how this store names its server.
struct PostgresSettings: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var poolSize: Int
    var tls: TLSMode
    var commitWindow: Duration
    var timeout: Duration
    /// false: start even when the server cannot be reached, and connect (and migrate) in the
    /// background; operations answer unavailable until then.
    var required: Bool

    /// `disable`, `prefer` (the default: TLS when the server offers it) or `require`.
    enum TLSMode: String, Sendable { case disable, prefer, require }

    static let keys = ["url", "password_env", "pool_size", "tls", "commit_window_ms", "timeout_ms", "required"]

    /// `host:port/database`, never the user's password.
    var redacted: String { "\(host):\(port)/\(database)" }

    init(configJSON: [UInt8], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let fields = try PluginConfig.fields(configJSON, plugin: "PostgresStore", keys: Self.keys)
        let url = try fields.string("url")
        guard !url.isEmpty else { throw PluginError("config.url: required, e.g. postgres://tokenhub@127.0.0.1:5432/tokenhub") }
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? "") else {
            throw PluginError("config.url: expected postgres://user[:password]@host[:port]/database")
        }
        guard let host = parts.host, !host.isEmpty else { throw PluginError("config.url: no host") }
        self.host = host
        port = parts.port ?? 5432
        guard (1...65535).contains(port) else { throw PluginError("config.url: port \(port) is not 1 to 65535") }
        guard let user = parts.user, !user.isEmpty else { throw PluginError("config.url: no user (postgres://user@host/database)") }
        self.user = user.removingPercentEncoding ?? user
        database = String(parts.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw PluginError("config.url: no database name after the host") }
        password = parts.password.map { $0.removingPercentEncoding ?? $0 }
        let variable = try fields.string("password_env")
        if !variable.isEmpty {
            guard password == nil else { throw PluginError("config.password_env: the url already carries a password; give one or the other") }
            guard let value = environment[variable] else { throw PluginError("config.password_env: the environment variable \(variable) is not set") }
            password = value
        }
        poolSize = try fields.int("pool_size", default: 8)
        guard (1...200).contains(poolSize) else { throw PluginError("config.pool_size: expected 1 to 200, got \(poolSize)") }
        let mode = try fields.string("tls", default: "prefer")
        guard let tls = TLSMode(rawValue: mode) else { throw PluginError("config.tls: expected disable, prefer or require, got \"\(mode)\"") }
        self.tls = tls
        let window = try fields.int("commit_window_ms", default: 2)
        guard (0...1000).contains(window) else { throw PluginError("config.commit_window_ms: expected 0 to 1000, got \(window)") }
        commitWindow = .milliseconds(window)
        let timeout = try fields.int("timeout_ms", default: 5000)
        guard (100...600_000).contains(timeout) else { throw PluginError("config.timeout_ms: expected 100 to 600000, got \(timeout)") }
        self.timeout = .milliseconds(timeout)
        required = try fields.bool("required", default: true)
    }
}
