import Crypto
import Engine
import Foundation
import Logging
import PluginKit
import TokenHubCore

/// `tokenhub store copy`: moves every kind of record between two stores through the store
/// ABI's `copy.*` operations, so any backend can be a source or a destination.
///
/// Resumable and idempotent: the destination records, in the transaction that writes each
/// page, how far the source was copied (`copy.progress`); a second run starts after that and
/// copies nothing twice. Keyed kinds (keys, registry, request logs, rewards) are also written
/// insert-if-absent, so rows the destination already had are kept as they are.
public enum StoreTransfer {
    /// The kinds, in the order they are copied.
    public static let kinds = ["providers", "models", "routing_config", "api_keys", "request_logs", "audit", "rewards", "tsdb_points"]

    /// What happened to one kind.
    public struct KindReport: Sendable {
        public var kind: String
        /// Rows written to the destination by this run.
        public var copied = 0
        /// With `verify`: rows and a checksum of each side (SHA-256 of the sorted rows' JSON).
        public var sourceCount: Int? = nil
        public var destinationCount: Int? = nil
        public var sourceChecksum: String? = nil
        public var destinationChecksum: String? = nil
        /// True when verified and both sides hold the same rows.
        public var matches: Bool { sourceCount != nil && sourceCount == destinationCount && sourceChecksum == destinationChecksum }
    }

    /// A store named on the command line: `sqlite:PATH`, a `postgres://` URL, a config file
    /// (`.yaml`/`.yml`: its `store`) or a YAML fragment such as `{plugin: PostgresStore, config: {url: …}}`.
    public static func storeConfig(_ spec: String, environment: [String: String]) throws -> GatewayConfig {
        let fragment: String
        if spec.hasPrefix("sqlite:") {
            let path = URL(fileURLWithPath: String(spec.dropFirst("sqlite:".count))).standardizedFileURL.path
            fragment = #"{plugin: SQLiteStore, config: {path: \#(quoted(path))}}"#
        } else if spec.hasPrefix("postgres://") || spec.hasPrefix("postgresql://") {
            fragment = #"{plugin: PostgresStore, config: {url: \#(quoted(spec))}}"#
        } else if spec.hasSuffix(".yaml") || spec.hasSuffix(".yml") {
            let config = try ConfigLoader.load(path: spec, environment: environment)
            guard config.store != nil else { throw StoreTransferError("\(spec): has no `store` section") }
            return storeOnly(config)
        } else {
            fragment = spec
        }
        return storeOnly(try ConfigLoader.parse(yaml: "store: \(fragment)\n", source: "store \(redacted(spec))", environment: environment))
    }

    /// Copies every kind from `source` to `destination`; `progress` hears each page.
    public static func copy(
        from source: GatewayConfig, to destination: GatewayConfig, verify: Bool, logger: Logger,
        progress: @Sendable (String, Int) -> Void = { _, _ in }
    ) async throws -> [KindReport] {
        let services = GatewayHostServices(engine: Engine(providers: [], models: []), logger: logger, defaults: source.routing)
        let from = try await start(source, services: services, role: "--from")
        let to: (plugins: PluginSet, store: StoreInstance)
        do {
            to = try await start(destination, services: services, role: "--to")
        } catch {
            await from.plugins.stopAll()
            throw error
        }
        do {
            let reports = try await copyKinds(from: from.store, to: to.store, sourceID: identity(source), verify: verify, progress: progress)
            await from.plugins.stopAll()
            await to.plugins.stopAll()
            return reports
        } catch {
            await from.plugins.stopAll()
            await to.plugins.stopAll()
            throw error
        }
    }

    private static func copyKinds(
        from: StoreInstance, to: StoreInstance, sourceID: String, verify: Bool, progress: @Sendable (String, Int) -> Void
    ) async throws -> [KindReport] {
        var reports: [KindReport] = []
        for kind in kinds {
            var report = KindReport(kind: kind)
            var cursor = try await call(to, "copy.progress", ["kind": .string(kind), "source": .string(sourceID)], role: "--to")["cursor"]?.stringValue ?? ""
            while true {
                let page = try await call(from, "copy.export", ["kind": .string(kind), "after": .string(cursor), "limit": .number(500)], role: "--from")
                guard let rows = page["rows"]?.arrayValue, !rows.isEmpty, let next = page["next"]?.stringValue, !next.isEmpty else { break }
                let written = try await call(to, "copy.import", [
                    "kind": .string(kind), "source": .string(sourceID), "cursor": .string(next), "rows": .array(rows),
                ], role: "--to")
                report.copied += written["stored"]?.countValue ?? 0
                cursor = next
                progress(kind, report.copied)
            }
            if verify {
                (report.sourceCount, report.sourceChecksum) = try await digest(from, kind: kind, role: "--from")
                (report.destinationCount, report.destinationChecksum) = try await digest(to, kind: kind, role: "--to")
            }
            reports.append(report)
        }
        return reports
    }

    private static func storeOnly(_ config: GatewayConfig) -> GatewayConfig {
        var config = config
        config.dispatch = []
        config.telemetry = []
        return config
    }

    private static func start(_ config: GatewayConfig, services: GatewayHostServices, role: String) async throws -> (plugins: PluginSet, store: StoreInstance) {
        let plugins: PluginSet
        do {
            plugins = try await PluginSet.start(config: config, services: services, strict: true)
        } catch {
            throw StoreTransferError("\(role): \(error)")
        }
        guard let store = plugins.store else { throw StoreTransferError("\(role): the store did not start") }
        return (plugins, store)
    }

    private static func call(_ store: StoreInstance, _ operation: String, _ input: [String: JSONValue], role: String) async throws -> JSONValue {
        let reply = await store.call(operation, JSONValue.object(input).serialized)
        guard reply.status == .ok, let answer = try? JSONValue.parse(reply.result) else {
            throw StoreTransferError("\(role): \(operation) failed: \(reply.message.isEmpty ? "status \(reply.status)" : reply.message)")
        }
        return answer
    }

    /// Every row of `kind`, counted, and a SHA-256 over their JSON in sorted order (so the
    /// order each backend keeps them in does not matter).
    private static func digest(_ store: StoreInstance, kind: String, role: String) async throws -> (Int, String) {
        var lines: [String] = []
        var cursor = ""
        while true {
            let page = try await call(store, "copy.export", ["kind": .string(kind), "after": .string(cursor), "limit": .number(5000)], role: role)
            guard let rows = page["rows"]?.arrayValue, !rows.isEmpty, let next = page["next"]?.stringValue, !next.isEmpty else { break }
            lines += rows.map(\.serializedString)
            cursor = next
        }
        var hash = SHA256()
        for line in lines.sorted() { hash.update(data: Data((line + "\n").utf8)) }
        return (lines.count, hash.finalize().map { String(format: "%02x", $0) }.joined())
    }

    /// A stable name for the source that carries no secret: the plugin and a hash of its config.
    private static func identity(_ config: GatewayConfig) -> String {
        guard let store = config.store else { return "none" }
        let digest = SHA256.hash(data: Data((store.library + "\n").utf8) + Data(store.config.serialized))
        return store.library + ":" + digest.prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    private static func quoted(_ text: String) -> String { JSONValue.string(text).serializedString }

    /// `spec` without a password (`postgres://user:secret@…` → `postgres://user:***@…`).
    public static func redacted(_ spec: String) -> String {
        guard let at = spec.firstIndex(of: "@"), let scheme = spec.range(of: "://"), scheme.upperBound < at,
              let colon = spec[scheme.upperBound..<at].firstIndex(of: ":") else { return spec }
        return String(spec[..<spec.index(after: colon)]) + "***" + String(spec[at...])
    }
}

/// A `store copy` failure, worded for the operator.
public struct StoreTransferError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
