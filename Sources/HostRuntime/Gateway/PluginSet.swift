#if canImport(Glibc)
import Glibc
#endif
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
    /// The SHA-256 of the file that was loaded, "" when it did not load.
    public var sha256: String = ""
    /// "running", "disabled", or the load error.
    public var status: String
    /// Whether it is in service.
    public var isRunning: Bool { status == "running" }
}

/// What makes a running instance reusable by a new generation: the same kind, file (by
/// path and by device, inode, size and modification time: a rebuilt file is a new one), name
/// and plugin config.
struct InstanceIdentity: Hashable, Sendable {
    var kind: PluginKind
    var path: String
    var file: FileStamp?
    var name: String?
    var configJSON: [UInt8]

    init(kind: PluginKind, path: String, reference: PluginReference) {
        self.kind = kind
        self.path = path
        file = FileStamp(path: path)
        name = reference.name
        configJSON = reference.config.serialized
    }
}

/// A file's identity as `stat` reports it.
struct FileStamp: Hashable, Sendable {
    var device: UInt64, inode: UInt64, size: Int64, modifiedSeconds: Int, modifiedNanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
    }
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
    /// The identity of each dispatcher and telemetry instance, for reuse by a reload.
    var identities: [ObjectIdentifier: InstanceIdentity] = [:]

    /// Loads, creates and starts every enabled plugin of `config`.
    /// - Parameters:
    ///   - strict: throw the first failure (serving, check-config, reloads); when false,
    ///     record failures in `reports` and go on (the `plugins` listing).
    ///   - reusing: a running set whose dispatcher and telemetry instances are taken over
    ///     where their identity is unchanged, instead of creating new ones; its store is taken
    ///     over as it is. On failure only the instances created here are stopped.
    public static func start(
        config: GatewayConfig, services: any HostServices, strict: Bool, reusing running: PluginSet? = nil
    ) async throws(PluginLoadError) -> PluginSet {
        var dispatchers: [DispatcherInstance] = []
        var store: StoreInstance?
        var telemetry: [TelemetryInstance] = []
        var reports: [PluginReport] = []
        var identities: [ObjectIdentifier: InstanceIdentity] = [:]
        var created: [AnyObject] = []
        var reusable = running.map(Self.reusableInstances) ?? [:]
        let configured = config.dispatch.map { ($0, PluginKind.dispatch) }
            + (config.store.map { [($0, PluginKind.store)] } ?? [])
            + config.telemetry.map { ($0, PluginKind.telemetry) }
        for (reference, kind) in configured {
            let path = PluginResolver.path(for: reference.library, directory: config.pluginDirectory)
            var report = PluginReport(keyPath: reference.keyPath, name: reference.name ?? reference.library, path: path,
                                      version: "", abiVersion: "", kinds: [], status: "disabled")
            guard reference.enabled else { reports.append(report); continue }
            let identity = InstanceIdentity(kind: kind, path: path, reference: reference)
            if kind == .store, let running, let runningStore = running.store,
               running.identities[ObjectIdentifier(runningStore)] == identity {
                store = runningStore  // the same store: taken over as it is
                identities[ObjectIdentifier(runningStore)] = identity
                reports.append(running.reports.first { $0.keyPath == reference.keyPath } ?? report)
                continue
            }
            if let reused = reusable[identity]?.popLast() {
                switch reused {
                case let instance as DispatcherInstance: dispatchers.append(instance)
                case let instance as TelemetryInstance: telemetry.append(instance)
                default: break
                }
                identities[ObjectIdentifier(reused)] = identity
                report = running?.reports.first { $0.path == path && $0.name == (reference.name ?? $0.name) && $0.isRunning } ?? report
                report.keyPath = reference.keyPath
                reports.append(report)
                continue
            }
            let configJSON = reference.config.serialized
            do throws(PluginLoadError) {
                let library = try PluginLibrary.load(path: path)
                (report.version, report.abiVersion, report.kinds) = (library.version, library.abiVersion, library.kinds)
                report.sha256 = library.sha256
                let name = reference.name ?? library.name
                report.name = name
                switch kind {
                case .dispatch:
                    let instance = try DispatcherInstance.create(library: library, name: name, configJSON: configJSON, services: services)
                    created.append(instance)
                    try await instance.start()
                    dispatchers.append(instance)
                    identities[ObjectIdentifier(instance)] = identity
                case .store:
                    let instance = try await StoreInstance.start(library: library, name: name, configJSON: configJSON, services: services)
                    created.append(instance)
                    store = instance
                    identities[ObjectIdentifier(instance)] = identity
                case .telemetry:
                    let instance = try TelemetryInstance.create(library: library, name: name, configJSON: configJSON, services: services)
                    created.append(instance)
                    telemetry.append(instance)
                    identities[ObjectIdentifier(instance)] = identity
                }
                report.status = "running"
            } catch {
                if strict {
                    await stop(created, deadline: .now + .seconds(30))
                    throw error.at(reference.keyPath)
                }
                report.status = error.description
            }
            reports.append(report)
        }
        return PluginSet(chain: DispatchChain(dispatchers), store: store, telemetry: telemetry, reports: reports, identities: identities)
    }

    /// The running set's dispatcher and telemetry instances by identity.
    private static func reusableInstances(_ running: PluginSet) -> [InstanceIdentity: [AnyObject]] {
        var instances: [InstanceIdentity: [AnyObject]] = [:]
        let all: [AnyObject] = running.chain.dispatchers + running.telemetry
        for instance in all.reversed() {
            guard let identity = running.identities[ObjectIdentifier(instance)] else { continue }
            instances[identity, default: []].append(instance)
        }
        return instances
    }

    /// This set's dispatcher and telemetry instances that `successor` does not use: what a
    /// reload retires once it has swapped.
    func instancesRetired(by successor: PluginSet) -> (dispatchers: [DispatcherInstance], telemetry: [TelemetryInstance]) {
        let kept = Set((successor.chain.dispatchers as [AnyObject] + successor.telemetry).map(ObjectIdentifier.init))
        return (chain.dispatchers.filter { !kept.contains(ObjectIdentifier($0)) },
                telemetry.filter { !kept.contains(ObjectIdentifier($0)) })
    }

    private static func stop(_ instances: [AnyObject], deadline: ContinuousClock.Instant) async {
        for instance in instances {
            switch instance {
            case let dispatcher as DispatcherInstance: await dispatcher.stop(deadline: deadline)
            case let store as StoreInstance: await store.stop(deadline: deadline)
            case let telemetry as TelemetryInstance: await telemetry.stop(deadline: deadline)
            default: break
            }
        }
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
