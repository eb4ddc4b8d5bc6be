import Foundation
import PluginAPI
import TokenHubCore

/// One configured plugin as `tokenhub plugins` and `/healthz` report it.
public struct PluginReport: Sendable, Hashable {
    /// Where it is configured (`dispatch.chain[0]`).
    public var keyPath: String
    /// The instance name (the plugin's own name unless config renames it).
    public var name: String
    /// The resolved file.
    public var path: String
    /// The plugin's version, "" when it did not load.
    public var version: String
    /// The ABI version it was built against, "" when it did not load.
    public var abiVersion: String
    /// The kinds the library offers.
    public var kinds: [PluginKind]
    /// "running", "disabled", or the load error.
    public var status: String
    /// Whether it is in service.
    public var isRunning: Bool { status == "running" }
}

/// The plugins of one configuration, loaded, created and started.
public struct PluginSet: Sendable {
    /// The dispatch chain built from `dispatch.chain`.
    public var chain: DispatchChain
    /// The store from `store`, if configured.
    public var store: StoreInstance?
    /// The instances from `telemetry`, in order.
    public var telemetry: [TelemetryInstance] = []
    /// Every configured plugin and what became of it.
    public var reports: [PluginReport]

    /// Loads, creates and starts every enabled plugin of `config`.
    /// - Parameter strict: throw the first failure (serving, check-config); when false,
    ///   record failures in `reports` and go on (the `plugins` listing).
    public static func start(
        config: GatewayConfig, services: any HostServices, strict: Bool
    ) async throws(PluginLoadError) -> PluginSet {
        var dispatchers: [DispatcherInstance] = []
        var store: StoreInstance?
        var telemetry: [TelemetryInstance] = []
        var reports: [PluginReport] = []
        let configured = config.dispatch.map { ($0, PluginKind.dispatch) }
            + (config.store.map { [($0, PluginKind.store)] } ?? [])
            + config.telemetry.map { ($0, PluginKind.telemetry) }
        for (reference, kind) in configured {
            let path = PluginResolver.path(for: reference.library, directory: config.pluginDirectory)
            var report = PluginReport(keyPath: reference.keyPath, name: reference.name ?? reference.library, path: path,
                                      version: "", abiVersion: "", kinds: [], status: "disabled")
            guard reference.enabled else { reports.append(report); continue }
            let configJSON = reference.config.serialized
            do throws(PluginLoadError) {
                let library = try PluginLibrary.load(path: path)
                (report.version, report.abiVersion, report.kinds) = (library.version, library.abiVersion, library.kinds)
                let name = reference.name ?? library.name
                report.name = name
                switch kind {
                case .dispatch:
                    let instance = try DispatcherInstance.create(library: library, name: name, configJSON: configJSON, services: services)
                    try await instance.start()
                    dispatchers.append(instance)
                case .store:
                    store = try await StoreInstance.start(library: library, name: name, configJSON: configJSON, services: services)
                case .telemetry:
                    telemetry.append(try TelemetryInstance.create(library: library, name: name, configJSON: configJSON, services: services))
                }
                report.status = "running"
            } catch {
                if strict {
                    await PluginSet(chain: DispatchChain(dispatchers), store: store, telemetry: telemetry, reports: []).stopAll()
                    throw error
                }
                report.status = error.description
            }
            reports.append(report)
        }
        return PluginSet(chain: DispatchChain(dispatchers), store: store, telemetry: telemetry, reports: reports)
    }

    /// Drains and stops the dispatchers, then flushes and stops the store and the telemetry
    /// plugins (dispatchers may still be recording results while they drain).
    public func stopAll(deadline: Duration = .seconds(30)) async {
        await chain.stopAll(deadline: .now + deadline)
        await store?.stop(deadline: .now + deadline)
        for instance in telemetry { await instance.stop(deadline: .now + deadline) }
    }
}

extension DispatchChain {
    /// Stops every dispatcher (draining) and destroys them.
    public func stopAll(deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            for dispatcher in dispatchers {
                group.addTask { await dispatcher.stop(deadline: deadline) }
            }
        }
    }
}
