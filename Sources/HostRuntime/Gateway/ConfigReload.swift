import Foundation
import TokenHubCore

/// Why a configuration reload was not applied. Nothing changes when one is thrown.
public struct ConfigReloadError: Error, Sendable, CustomStringConvertible {
    /// The kinds of refusal.
    public enum Code: String, Sendable {
        /// The file does not read or validate (the message names the key and line).
        case invalidConfig = "invalid_config"
        /// A setting that only a restart can apply changed.
        case restartRequired = "restart_required"
        /// The store refused the registry (the message says why).
        case registryFailed = "registry_failed"
        /// A plugin of the new configuration did not load, create or start (the message names
        /// its key path, file and cause).
        case pluginFailed = "plugin_failed"
    }

    /// What kind of refusal.
    public var code: Code
    /// What went wrong, naming the keys involved.
    public var message: String
    /// For `.restartRequired`: the changed keys, e.g. `dispatch.chain`, `server.listen`.
    public var restartKeys: [String] = []

    /// "reload refused: …".
    public var description: String { "reload refused (\(code.rawValue)): \(message)" }
}

/// What a configuration reload applied.
public struct ConfigReloadOutcome: Sendable {
    /// The file (or the embedded default) that was read.
    public var source: String
    /// The reloadable sections whose values differ from before the reload.
    public var changedSections: [String]
    /// Providers and models the engine routes on now.
    public var providers: Int, models: Int
    /// The generation now running.
    public var generation: Int
    /// Dispatcher and telemetry instances created for it, and those taken over unchanged.
    public var createdInstances: [String], reusedInstances: [String]
    /// From reading the file to the swap, in milliseconds (the retired instances drain after).
    public var tookMs: Double = 0

    /// The admin API's answer.
    public var json: JSONValue {
        .object([
            "reloaded": .bool(true), "source": .string(source),
            "changed": .array(changedSections.map(JSONValue.string)),
            "providers": .number(Double(providers)), "models": .number(Double(models)),
            "generation": .number(Double(generation)),
            "created": .array(createdInstances.map(JSONValue.string)), "reused": .array(reusedInstances.map(JSONValue.string)),
            "took_ms": .number((tookMs * 1000).rounded() / 1000),
        ])
    }
}

/// Hot reload of `config.yaml` (on SIGHUP or `POST /admin/v1/reload`): what may change while
/// serving, and what needs a restart.
///
/// A reload re-reads the config the gateway started from, with the environment overrides
/// applied as at start, and builds a new generation: `providers`, `models`, `routing`,
/// `server.rate_limit`, the admin token, the dispatch chain (`dispatch.chain`, `plugins.dir`,
/// and `temporal`, which adds TemporalDispatch to it) and the telemetry plugins. Dispatcher and telemetry instances whose plugin file, name and config
/// are unchanged are taken over; the rest are created and started before anything is swapped,
/// so a plugin that fails rejects the whole reload and the running generation is untouched.
/// Requests in flight finish on the generation they started on; the old generation's retired
/// instances drain, stop and are destroyed. With a store, the store stays the registry: as at
/// start, the file's providers and models are added when their IDs are new there, and changes
/// to existing ones go through the admin API. The admin token changes with the generation (the
/// answer to the reload request itself was authorized by the old one). A different store
/// (another file, another backend) is the new generation's: seeded from the file and loaded as
/// at start, while requests in flight write to the old one, which is flushed and stopped once
/// they are done. Any other difference (listen address, body limit, timeouts, API-key
/// requirement, adding or removing the store, retention) still needs a restart: the reload is refused, naming those keys, and nothing
/// changes.
enum ConfigReload {
    /// The keys only a restart can apply whose values differ between `running` and `candidate`.
    static func restartOnlyChanges(running: GatewayConfig, candidate: GatewayConfig) -> [String] {
        let server = (running.server, candidate.server)
        let checks: [(String, Bool)] = [
            ("server.listen", server.0.host != server.1.host || server.0.port != server.1.port),
            ("server.secret_key_file", server.0.secretKeyFile != server.1.secretKeyFile),
            ("server.body_limit_bytes", server.0.bodyLimitBytes != server.1.bodyLimitBytes),
            ("server.idle_timeout_ms", server.0.idleTimeoutMs != server.1.idleTimeoutMs),
            ("server.body_timeout_ms", server.0.bodyTimeoutMs != server.1.bodyTimeoutMs),
            ("server.max_connections", server.0.maxConnections != server.1.maxConnections),
            ("server.shutdown_timeout_ms", server.0.shutdownTimeoutMs != server.1.shutdownTimeoutMs),
            ("server.require_api_key", server.0.requireAPIKey != server.1.requireAPIKey),
            // Adding or removing a store changes which routes work; switching stores does not.
            ("store", (running.store == nil) != (candidate.store == nil)),
            ("retention.tsdb_days", running.tsdbRetentionDays != candidate.tsdbRetentionDays),
        ]
        return checks.filter(\.1).map(\.0)
    }

    /// The reloadable sections whose values differ.
    static func changedSections(from old: GatewayConfig, to new: GatewayConfig) -> [String] {
        let checks: [(String, Bool)] = [
            ("providers", old.providers != new.providers),
            ("models", old.models != new.models),
            ("routing", old.routing != new.routing),
            ("server.rate_limit", old.server.rateLimit != new.server.rateLimit),
            ("server.admin_token", old.server.adminToken != new.server.adminToken),
            ("server.watch_config", old.server.watchConfig != new.server.watchConfig),
            ("server.log_level", old.server.logLevel != new.server.logLevel),
            ("plugins.dir", old.pluginDirectory != new.pluginDirectory),
            ("dispatch.chain", old.dispatch != new.dispatch),
            ("telemetry", old.telemetry != new.telemetry),
            ("temporal", old.temporal != new.temporal),
            ("store", old.store != new.store),
        ]
        return checks.filter(\.1).map(\.0)
    }

    /// Reads the config again from where `running` came from.
    static func reread(_ running: GatewayConfig, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        running.source == ConfigLoader.embeddedSource
            ? try ConfigLoader.parse(yaml: DefaultConfig.yaml, source: running.source, environment: environment)
            : try ConfigLoader.load(path: running.source, environment: environment)
    }
}

extension Gateway {
    /// Re-reads the config file and applies what may change while serving (see
    /// `ConfigReload`); throws, changing nothing, when the file is invalid or a setting that
    /// needs a restart changed. Reloads run one at a time.
    public func reloadConfig(environment: [String: String] = ProcessInfo.processInfo.environment)
        async throws(ConfigReloadError) -> ConfigReloadOutcome
    {
        do {
            let outcome = try await reloadUnderPermit(environment: environment)
            for instance in outcome.createdInstances {
                services.events.publish(.pluginLoaded, ["instance": .string(instance), "generation": .number(Double(outcome.generation))])
            }
            services.events.publish(.configReloaded, [
                "generation": .number(Double(outcome.generation)), "changed": .array(outcome.changedSections.map(JSONValue.string)),
            ])
            return outcome
        } catch {
            if error.code == .pluginFailed { services.events.publish(.pluginFailed, ["error": .string(error.message)]) }
            services.events.publish(.configRejected, ["code": .string(error.code.rawValue), "error": .string(error.message)])
            throw error
        }
    }

    private func reloadUnderPermit(environment: [String: String]) async throws(ConfigReloadError) -> ConfigReloadOutcome {
        try await reloads.withPermit { () async throws(ConfigReloadError) -> ConfigReloadOutcome in
            let began = ContinuousClock.now
            let running = applied.withLock { $0 }
            let candidate: GatewayConfig
            do {
                candidate = try ConfigReload.reread(running, environment: environment)
            } catch {
                throw ConfigReloadError(code: .invalidConfig, message: "\(error)")
            }
            let restartKeys = ConfigReload.restartOnlyChanges(running: running, candidate: candidate)
            guard restartKeys.isEmpty else {
                throw ConfigReloadError(code: .restartRequired,
                                        message: "\(restartKeys.joined(separator: ", ")) changed, which takes a restart of tokenhub; nothing was applied",
                                        restartKeys: restartKeys)
            }
            // The new generation's plugins first: nothing is applied unless all of them start.
            let current = plugins
            let successor: PluginSet
            do {
                successor = try await PluginSet.start(config: candidate, services: services, strict: true, reusing: current)
            } catch {
                throw ConfigReloadError(code: .pluginFailed, message: "\(error); nothing was applied")
            }
            let retired = current.instancesRetired(by: successor)
            let reusedIDs = Set((current.chain.dispatchers as [AnyObject] + current.telemetry).map(ObjectIdentifier.init))
            let created = (successor.chain.dispatchers as [AnyObject] + successor.telemetry).filter { !reusedIDs.contains(ObjectIdentifier($0)) }
            let newStore = successor.store.flatMap { $0 === current.store ? nil : $0 }
            do throws(APIError) {
                try await registry.applyConfig(providers: candidate.providers, models: candidate.models, routing: candidate.routing,
                                               store: newStore)
            } catch {
                // Back out: the instances created for the new generation are stopped unused.
                let unused = successor.instancesRetired(by: current)
                await DispatchChain(unused.dispatchers).stopAll(deadline: .now + .seconds(10))
                for instance in unused.telemetry { await instance.stop(deadline: .now + .seconds(10)) }
                await newStore?.stop(deadline: .now + .seconds(10))
                throw ConfigReloadError(code: .registryFailed, message: error.message)
            }
            rateLimiter.update(candidate.server.rateLimit)
            applied.withLock { $0 = candidate }
            let number = swapGeneration(to: successor)
            if running.temporal != candidate.temporal { replaceTemporalConnection(candidate.temporal) }
            if let newStore { restartRetention(store: newStore, days: candidate.tsdbRetentionDays) }
            LogLevelControl.set(candidate.server.logLevel)
            var changed = ConfigReload.changedSections(from: running, to: candidate)
            if !created.isEmpty || !retired.dispatchers.isEmpty || !retired.telemetry.isEmpty,
               !changed.contains(where: ["dispatch.chain", "telemetry", "plugins.dir"].contains) {
                changed.append("plugins")  // same config, a plugin file replaced
            }
            let names = { (objects: [AnyObject]) in objects.compactMap { ($0 as? DispatcherInstance)?.name ?? ($0 as? TelemetryInstance)?.name } }
            var outcome = ConfigReloadOutcome(source: candidate.source, changedSections: changed,
                                              providers: engine.providers.count, models: engine.models.count, generation: number,
                                              createdInstances: names(created),
                                              reusedInstances: names((successor.chain.dispatchers as [AnyObject] + successor.telemetry)
                                                  .filter { reusedIDs.contains(ObjectIdentifier($0)) }))
            outcome.tookMs = (ContinuousClock.now - began).totalMilliseconds
            logger.notice("config reloaded", metadata: [
                "source": "\(outcome.source)", "changed": "\(outcome.changedSections.joined(separator: ","))",
                "providers": "\(outcome.providers)", "models": "\(outcome.models)", "generation": "\(number)",
                "created": "\(outcome.createdInstances.joined(separator: ","))",
            ])
            return outcome
        }
    }
}
