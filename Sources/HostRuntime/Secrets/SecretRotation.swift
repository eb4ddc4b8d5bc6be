import Engine
import Foundation
import Logging
import PluginKit
import TokenHubCore

/// `tokenhub secrets rotate`: re-seals every stored provider key under the current secret
/// key. Keys sealed with an earlier key (listed in `TOKENHUB_SECRET_KEY_PREVIOUS`) and keys an
/// older version stored in clear are sealed anew; keys from `config.yaml` stay marks.
public enum SecretRotation {
    /// What a rotation did, per provider record.
    public struct Summary: Sendable, Hashable {
        /// Re-sealed from an earlier key.
        public var resealed = 0
        /// Sealed for the first time (stored in clear before).
        public var sealedFromClear = 0
        /// Already under the current key.
        public var alreadyCurrent = 0
        /// No key stored (none, or the config file's).
        public var withoutStoredKey = 0
    }

    /// Rotates the store of `config`. Only the store plugin is started.
    public static func rotate(config: GatewayConfig, environment: [String: String], logger: Logger) async throws -> Summary {
        let keyring = try SecretKeyring.load(environment: environment, keyFile: config.server.secretKeyFile)
        guard let current = keyring.current else {
            throw SecretKeyError("no secret key is configured: set TOKENHUB_SECRET_KEY to the new key (and TOKENHUB_SECRET_KEY_PREVIOUS to the old ones)")
        }
        guard config.store != nil else { throw SecretKeyError("no store is configured: there are no stored provider keys to rotate") }
        var storeOnly = config
        storeOnly.dispatch = []
        storeOnly.telemetry = []
        let services = GatewayHostServices(engine: Engine(providers: [], models: []), logger: logger, defaults: config.routing)
        let plugins = try await PluginSet.start(config: storeOnly, services: services, strict: true)
        do {
            guard let store = plugins.store else { throw SecretKeyError("the store did not start") }
            let summary = try await reseal(store: store, keyring: keyring, current: current)
            await plugins.stopAll()
            return summary
        } catch {
            await plugins.stopAll()
            throw error
        }
    }

    private static func reseal(store: StoreInstance, keyring: SecretKeyring, current: SecretKeyring.Key) async throws -> Summary {
        var summary = Summary()
        let listed = await store.call("provider.list", JSONValue.object([:]).serialized)
        guard listed.status == .ok, let records = (try? JSONValue.parse(listed.result))?["records"]?.arrayValue else {
            throw SecretKeyError("store: cannot list providers: \(listed.message)")
        }
        for stored in records {
            guard var record = stored.objectValue, let id = record["id"]?.stringValue else { continue }
            let plain: String
            if let sealed = record[RegistryService.sealedKeyField]?.stringValue {
                if SecretKeyring.sealingKeyID(sealed) == current.id { summary.alreadyCurrent += 1; continue }
                plain = try keyring.open(sealed, context: "provider:\(id)")
                summary.resealed += 1
            } else if let clear = record["api_key"]?.stringValue, !clear.isEmpty {
                plain = clear
                summary.sealedFromClear += 1
            } else {
                summary.withoutStoredKey += 1
                continue
            }
            record["api_key"] = nil
            record[RegistryService.sealedKeyField] = .string(try keyring.seal(plain, context: "provider:\(id)"))
            let reply = await store.call("provider.upsert", JSONValue.object(["record": .object(record)]).serialized)
            guard reply.status == .ok else { throw SecretKeyError("store: cannot write provider \(id): \(reply.message)") }
        }
        return summary
    }
}
