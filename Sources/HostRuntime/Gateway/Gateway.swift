import Engine
import Foundation
import Logging
import Synchronization
import TemporalKit
import TokenHubCore

/// Everything a request needs, built from one configuration: the engine, the started plugins
/// and the dispatch chain.
public final class Gateway: Sendable {
    /// The configuration it was started with. Settings a reload may change (the registry,
    /// routing defaults, rate limits) are read from their owners, not from here.
    public let config: GatewayConfig
    /// The routing engine.
    public let engine: Engine
    /// The running generation: its number (1 at start, one more per reload that changed the
    /// plugins) and its plugins. A request takes the plugins once, as it starts, and finishes
    /// on them whatever a reload swaps in meanwhile.
    private let generation: Mutex<Generation>
    /// Instances a reload retired, draining: shutdown waits for them.
    private let retiring = Mutex<[Task<Void, Never>]>([])

    /// The running generation's plugins and chain.
    public var plugins: PluginSet { generation.withLock { $0.plugins } }
    /// The running generation's number.
    public var generationNumber: Int { generation.withLock { $0.number } }
    /// The running generation: a request takes it once, counted in its `requests`.
    var currentGeneration: Generation { generation.withLock { $0 } }
    /// The gateway's logger.
    public let logger: Logger
    /// What the host table offers plugins; the host's own paths (streaming) use it too.
    let services: GatewayHostServices
    /// The admin API's view of Temporal; nil when `temporal.enabled` is false. A reload that
    /// changes the Temporal settings replaces it (the dispatcher is the chain's, a new instance).
    private let temporalConnection: Mutex<TemporalConnection?>
    var temporal: TemporalConnection? { temporalConnection.withLock { $0 } }
    /// Providers, models and the routing defaults: seeded from the config, kept in the store.
    let registry: RegistryService
    /// The per-client-IP and per-key rate limits; a config reload updates them.
    let rateLimiter: RateLimiter
    /// Recently validated API keys, for store outages (`KeyCache`).
    let keyCache = KeyCache()
    /// The config last applied (at start or by a reload): reloads compare against it.
    let applied: Mutex<GatewayConfig>

    /// The admin token of the running generation (a reload may change it); nil: admin API off.
    var adminToken: String? { applied.withLock { $0.server.adminToken } }
    /// Serializes config reloads.
    let reloads = AsyncSemaphore(1)
    /// The hourly TSDB prune, cancelled at shutdown.
    private let retention = Mutex<Task<Void, Never>?>(nil)

    private init(config: GatewayConfig, engine: Engine, plugins: PluginSet, logger: Logger, services: GatewayHostServices, keyring: SecretKeyring) {
        self.config = config
        self.engine = engine
        generation = Mutex(Generation(number: 1, plugins: plugins))
        self.logger = logger
        self.services = services
        registry = RegistryService(engine: engine, store: plugins.store, routing: config.routing, logger: logger, keyring: keyring,
                                   configProviders: config.providers)
        rateLimiter = RateLimiter(config.server.rateLimit)
        applied = Mutex(config)
        temporalConnection = Mutex(Self.temporalConnection(config.temporal))
    }

    /// The admin API's connection for `settings`; no I/O here: it connects on the first call.
    static func temporalConnection(_ settings: TemporalSettings) -> TemporalConnection? {
        settings.enabled
            ? try? TemporalConnection(target: settings.host, namespace: settings.namespace,
                                      identity: "\(getpid())@\(ProcessInfo.processInfo.hostName)-admin", tls: settings.tls)
            : nil
    }

    /// Points the admin API at Temporal as `settings` say (after a reload changed them).
    func replaceTemporalConnection(_ settings: TemporalSettings) {
        let old = temporalConnection.withLock { connection in
            defer { connection = Self.temporalConnection(settings) }
            return connection
        }
        old?.close()
    }

    /// Builds the engine and starts every plugin; any plugin failure is an error, and so is a
    /// secret key that is malformed or does not open the stored provider keys.
    public static func start(config: GatewayConfig, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Gateway {
        let keyring = try SecretKeyring.load(environment: environment, keyFile: config.server.secretKeyFile)
        LogLevelControl.set(config.server.logLevel)
        let telemetry = TelemetryFanOut()
        let events = EventBus(telemetry: telemetry)
        let engine = Engine(providers: config.providers, models: config.models, onHealthChange: { provider, state in
            logger.notice("provider health changed", metadata: ["provider": "\(provider)", "state": "\(state.rawValue)"])
            events.publish(.healthChange, ["provider": .string(provider), "state": .string(state.rawValue)])
        }, onEscalation: { step in
            events.publish(.escalation, requestID: step.requestID.isEmpty ? nil : step.requestID, [
                "action": .string(step.action), "from_model": .string(step.fromModel), "from_provider": .string(step.fromProvider),
                "to_model": .string(step.toModel), "to_provider": .string(step.toProvider), "error_class": .string(step.errorClass),
                "attempt": .number(Double(step.attempt)), "reason": .string(step.reason),
            ])
        })
        let services = GatewayHostServices(engine: engine, logger: logger, defaults: config.routing, telemetry: telemetry, events: events)
        do {
            let plugins = try await PluginSet.start(config: config, services: services, strict: true)
            services.results.attach(plugins.store)
            services.telemetry.attach(plugins.telemetry)
            // The first generation's plugins on the bus, as a reload announces its new ones.
            for report in plugins.reports {
                services.events.publish(.pluginLoaded, ["instance": .string(report.name), "generation": .number(1)])
            }
            if let store = plugins.store {
                // The stats windows of the day before this start, from the request log.
                let started = Date()
                Task { await services.stats.rebuild(from: store, before: started) }
            }
            let gateway = Gateway(config: config, engine: engine, plugins: plugins, logger: logger, services: services, keyring: keyring)
            do {
                try await gateway.registry.seedAndLoad(providers: config.providers, models: config.models)
            } catch where error.code == "secret_key" {
                await gateway.shutdown()
                throw SecretKeyError(error.message)
            } catch {
                // The config's registry stays in force; admin registry changes will fail loudly.
                logger.error("registry: could not seed or load from the store; routing on config.yaml's registry", metadata: ["error": "\(error.message)"])
            }
            if let store = plugins.store { gateway.restartRetention(store: store, days: config.tsdbRetentionDays) }
            return gateway
        } catch {
            await engine.shutdown()
            throw error
        }
    }

    /// Lists what every configured plugin became, without failing on broken ones.
    public static func inspectPlugins(config: GatewayConfig, logger: Logger) async -> [PluginReport] {
        let engine = Engine(providers: config.providers, models: config.models)
        let services = GatewayHostServices(engine: engine, logger: logger, defaults: config.routing)
        let plugins = try? await PluginSet.start(config: config, services: services, strict: false)
        await plugins?.stopAll(deadline: .seconds(5))
        await engine.shutdown()
        return plugins?.reports ?? []
    }

    /// Drains and stops every plugin, within `server.shutdown_timeout_ms` in all: a plugin
    /// that never completes its stop is given up on at the deadline (and logged).
    public func shutdown() async {
        retention.withLock { $0?.cancel() }
        let deadline = ContinuousClock.now + .milliseconds(config.server.shutdownTimeoutMs)
        let plugins = self.plugins
        await plugins.chain.stopAll(deadline: deadline)
        for task in retiring.withLock({ $0 }) { await task.value }  // each bounded by its own deadline
        let results = services.results
        let flushed = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await results.flush(); return true }
            group.addTask { try? await Task.sleep(until: deadline); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !flushed { logger.error("shutdown: request log rows still queued at the deadline were not written") }
        await plugins.store?.stop(deadline: deadline)
        services.telemetry.attach([])
        for instance in plugins.telemetry { await instance.stop(deadline: deadline) }
        temporal?.close()
        await engine.shutdown()
    }

    /// Runs the hourly TSDB prune against `store` (a reload that switched stores restarts it).
    func restartRetention(store: StoreInstance, days: Int) {
        let logger = self.logger
        let task = Task { await TimeSeriesRetention.run(store: store, days: days, logger: logger) }
        retention.withLock { old in
            old?.cancel()
            old = task
        }
    }

    /// Swaps in `successor` as the next generation, points the result recorder's telemetry at
    /// it, and retires what the old one had that the new one does not reuse: those instances
    /// refuse new calls from now on, drain the running ones and stop, in the background,
    /// within `server.shutdown_timeout_ms`. Returns the new generation's number.
    func swapGeneration(to successor: PluginSet) -> Int {
        let (number, old) = generation.withLock { current -> (Int, Generation) in
            let old = current
            current = Generation(number: old.number + 1, plugins: successor)
            return (current.number, old)
        }
        let predecessor = old.plugins
        services.telemetry.attach(successor.telemetry)
        services.results.attach(successor.store)
        let retired = predecessor.instancesRetired(by: successor)
        // A store the new generation does not use: stopped once the old generation's requests
        // are done and their rows are written (requests record into their generation's store).
        let retiredStore = predecessor.store.flatMap { $0 === successor.store ? nil : $0 }
        guard !retired.dispatchers.isEmpty || !retired.telemetry.isEmpty || retiredStore != nil else { return number }
        let deadline = ContinuousClock.now + .milliseconds(config.server.shutdownTimeoutMs)
        let logger = self.logger
        let results = services.results
        let task = Task {
            await DispatchChain(retired.dispatchers).stopAll(deadline: deadline)
            for instance in retired.telemetry { await instance.stop(deadline: deadline) }
            if let retiredStore {
                await old.requests.waitUntilIdle(deadline: deadline)
                await results.flush(store: retiredStore)
                await retiredStore.stop(deadline: deadline)
                logger.info("generation \(number - 1): store \(retiredStore.name) flushed and stopped")
            }
            logger.info("generation \(number - 1): retired instances stopped", metadata: [
                "dispatchers": "\(retired.dispatchers.map(\.name).joined(separator: ","))",
                "telemetry": "\(retired.telemetry.map(\.name).joined(separator: ","))",
            ])
        }
        retiring.withLock { $0.append(task) }
        return number
    }

    /// A fresh request id: `req-` and 32 hex digits, the first 12 the time in milliseconds and
    /// the other 20 random. Time first keeps IDs of one period together in the store's unique
    /// index, so the rows a commit writes share index pages instead of each dirtying its own.
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func newRequestID(now: Date = Date()) -> String {
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        // 10 random bytes (20 hex digits) in one getentropy(3), written as hex in place: this
        // runs on every request (two `SystemRandomNumberGenerator` draws were two syscalls).
        var random: (UInt64, UInt16) = (0, 0)
        withUnsafeMutableBytes(of: &random) { bytes in
            if getentropy(bytes.baseAddress, 10) != 0 {
                var generator = SystemRandomNumberGenerator()
                bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: 0, as: UInt64.self)
                bytes.storeBytes(of: generator.next() as UInt16, toByteOffset: 8, as: UInt16.self)
            }
        }
        let hex = Self.hexDigits
        return String(unsafeUninitializedCapacity: 36) { buffer in
            for (offset, byte) in "req-".utf8.enumerated() { buffer[offset] = byte }
            for digit in 0..<12 { buffer[4 + digit] = hex[Int(truncatingIfNeeded: milliseconds >> UInt64(4 * (11 - digit))) & 0xF] }
            for digit in 0..<16 { buffer[16 + digit] = hex[Int(truncatingIfNeeded: random.0 >> UInt64(4 * (15 - digit))) & 0xF] }
            for digit in 0..<4 { buffer[32 + digit] = hex[Int(truncatingIfNeeded: random.1 >> UInt16(4 * (3 - digit))) & 0xF] }
            return 36
        }
    }
}

/// One generation of the gateway: its number, its plugins, and the requests running on it (a
/// reload retires a store only once they are done).
final class Generation: Sendable {
    let number: Int
    let plugins: PluginSet
    let requests = InFlightCounter()

    init(number: Int, plugins: PluginSet) {
        self.number = number
        self.plugins = plugins
    }
}
