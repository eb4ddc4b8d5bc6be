import Engine
import Logging
import PluginKit
import Synchronization
import TokenHubCore

/// The registry's one owner: seeds the store from `config.yaml` at start, loads providers,
/// models and the routing config from it, and applies admin changes to the store and then to
/// the engine, so the next request routes on them.
///
/// Without a store the registry is the config's and read-only.
///
/// Provider keys never reach the store in clear: a key set through the admin API is sealed
/// with the gateway's secret key (`SecretKeyring`), and one from `config.yaml` is stored as
/// a mark (`api_key_from_config`) and read from the file at each load.
///
/// THREAD: safe from any task; changes are serialized so the engine never sees a half-applied
/// one.
final class RegistryService: Sendable {
    private let engine: Engine
    /// The running generation's store (a reload may switch it).
    private let currentStore: Mutex<StoreInstance?>
    private var store: StoreInstance? { currentStore.withLock { $0 } }
    private let logger: Logger
    private let routingDefaults: Mutex<Policy>
    /// Serializes read-modify-write of the registry.
    private let changes = AsyncSemaphore(1)
    /// Seals and opens provider keys set through the admin API.
    let keyring: SecretKeyring
    /// The keys of `config.yaml`'s providers, by provider id (replaced by a config reload).
    private let configKeys: Mutex<[String: String]>

    /// Store fields that say where a provider's key is; never passed to the config reader.
    static let sealedKeyField = "api_key_sealed"
    static let configKeyField = "api_key_from_config"

    init(engine: Engine, store: StoreInstance?, routing: Policy, logger: Logger, keyring: SecretKeyring = SecretKeyring(current: nil),
         configProviders: [ProviderSpec] = []) {
        self.engine = engine
        currentStore = Mutex(store)
        self.logger = logger
        self.keyring = keyring
        routingDefaults = Mutex(routing)
        configKeys = Mutex(Self.keys(of: configProviders))
    }

    private static func keys(of providers: [ProviderSpec]) -> [String: String] {
        Dictionary(providers.filter { !$0.apiKey.isEmpty }.map { ($0.id, $0.apiKey) }, uniquingKeysWith: { first, _ in first })
    }

    /// The record the store keeps for `provider`: its key sealed, or marked as the config
    /// file's; never in clear. A key to seal without a configured secret key is refused.
    func storedRecord(_ provider: ProviderSpec, keyFromConfig: Bool) throws(APIError) -> JSONValue {
        var record = RegistryRecord.json(provider, withKey: false).objectValue ?? [:]
        record["has_api_key"] = nil
        guard !provider.apiKey.isEmpty else { return .object(record) }
        if keyFromConfig {
            record[Self.configKeyField] = .bool(true)
            return .object(record)
        }
        guard keyring.canSeal else {
            throw APIError(.badRequest, "api_key: provider keys are stored encrypted, and no secret key is configured: set TOKENHUB_SECRET_KEY "
                + "(e.g. `export TOKENHUB_SECRET_KEY=$(openssl rand -base64 32)`) or server.secret_key_file and restart, or reference an "
                + "environment variable from config.yaml (api_key: ${OPENAI_API_KEY})", code: "secret_key_required", param: "api_key")
        }
        do {
            record[Self.sealedKeyField] = .string(try keyring.seal(provider.apiKey, context: "provider:\(provider.id)"))
        } catch {
            throw APIError(.internalServerError, "cannot seal the provider key: \(error.message)", type: "server_error", code: "secret_key")
        }
        return .object(record)
    }

    /// A stored record with its key resolved (opened, or taken from the config file), ready
    /// for the config reader. Throws when a sealed key cannot be opened.
    func resolvedRecord(_ stored: JSONValue) throws(SecretKeyError) -> JSONValue {
        guard var record = stored.objectValue else { return stored }
        let id = record["id"]?.stringValue ?? ""
        let sealed = record.removeValue(forKey: Self.sealedKeyField)
        let fromConfig = record.removeValue(forKey: Self.configKeyField)
        if let sealed = sealed?.stringValue {
            record["api_key"] = .string(try keyring.open(sealed, context: "provider:\(id)"))
        } else if fromConfig == .bool(true) {
            record["api_key"] = configKeys.withLock { $0[id] }.map(JSONValue.string)
        } else if record["api_key"] != nil {
            logger.warning("provider key stored in clear (written by an older version); run `tokenhub secrets rotate` to seal it",
                           metadata: ["provider": "\(id)"])
        }
        return .object(record)
    }

    /// The default policy requests start from.
    var routing: Policy { routingDefaults.withLock { $0 } }

    /// Seeds the store with the config's providers and models (only ids it does not have yet,
    /// so admin changes win over the file) and loads the store's registry into the engine.
    func seedAndLoad(providers: [ProviderSpec], models: [ModelSpec]) async throws(APIError) {
        guard store != nil else { return }
        configKeys.withLock { $0 = Self.keys(of: providers) }
        for provider in providers {
            _ = try await call("provider.upsert", ["record": try storedRecord(provider, keyFromConfig: true), "only_if_absent": .bool(true)])
        }
        for model in models {
            _ = try await call("model.upsert", ["record": RegistryRecord.json(model), "only_if_absent": .bool(true)])
        }
        try await reload()
        if let stored = try await call("routing_config.get", [:])["value"], stored != .null {
            do {
                let policy = try RegistryRecord.routing(stored)
                routingDefaults.withLock { $0 = policy }
            } catch {
                logger.error("stored routing config ignored", metadata: ["error": "\(error.message)"])
            }
        }
    }

    /// A config reload's registry: without a store, the config's providers, models and routing
    /// replace the engine's; with one, the same as at start (`seedAndLoad`, with the config's
    /// routing unless the store has its own). Serialized with admin changes.
    func applyConfig(providers: [ProviderSpec], models: [ModelSpec], routing: Policy,
                     store newStore: StoreInstance? = nil) async throws(APIError) {
        try await changes.withPermit { () async throws(APIError) in
            if let newStore {
                // A new generation's store: it becomes the registry, seeded from the file and
                // loaded, as at start; if that fails the old store stays.
                let old = currentStore.withLock { current in
                    defer { current = newStore }
                    return current
                }
                do throws(APIError) {
                    routingDefaults.withLock { $0 = routing }
                    try await seedAndLoad(providers: providers, models: models)
                } catch {
                    currentStore.withLock { $0 = old }
                    throw error
                }
                return
            }
            guard store != nil else {
                engine.replaceRegistry(providers: providers, models: models)
                routingDefaults.withLock { $0 = routing }
                return
            }
            routingDefaults.withLock { $0 = routing }
            try await seedAndLoad(providers: providers, models: models)  // also takes the file's keys
        }
    }

    /// Reloads providers, models and the routing config from the store, after another instance
    /// changed them (`StoreRevisionWatcher`). Serialized with admin changes.
    /// With `seeding` (the config's providers and models), they are first written where their
    /// ids are new, as at start: for a store that could not be seeded then (`required: false`).
    func refreshFromStore(seeding config: (providers: [ProviderSpec], models: [ModelSpec])? = nil) async throws(APIError) {
        guard store != nil else { return }
        try await changes.withPermit { () async throws(APIError) in
            if let config {
                try await seedAndLoad(providers: config.providers, models: config.models)
                return
            }
            try await reload()
            if let stored = try await call("routing_config.get", [:])["value"], stored != .null, let policy = try? RegistryRecord.routing(stored) {
                routingDefaults.withLock { $0 = policy }
            }
        }
    }

    /// Reads every provider and model from the store into the engine; unreadable records are
    /// skipped and logged rather than taking the registry down. A sealed key that does not
    /// open is no unreadable record but a wrong secret key: the whole load fails, naming it.
    private func reload() async throws(APIError) {
        var providers: [ProviderSpec] = []
        for stored in try await call("provider.list", [:])["records"]?.arrayValue ?? [] {
            let record: JSONValue
            do { record = try resolvedRecord(stored) } catch {
                throw APIError(.internalServerError, "secret key: \(error.message)", type: "server_error", code: "secret_key")
            }
            do { providers.append(try RegistryRecord.provider(record)) } catch {
                logger.error("stored provider skipped", metadata: ["id": "\(record["id"]?.stringValue ?? "?")", "error": "\(error.message)"])
            }
        }
        var models: [ModelSpec] = []
        for record in try await call("model.list", [:])["records"]?.arrayValue ?? [] {
            do { models.append(try RegistryRecord.model(record, providers: providers)) } catch {
                logger.error("stored model skipped", metadata: ["id": "\(record["id"]?.stringValue ?? "?")", "error": "\(error.message)"])
            }
        }
        engine.replaceRegistry(providers: providers, models: models)
    }

    // MARK: Admin changes

    /// Creates or replaces a provider.
    func upsertProvider(_ record: JSONValue) async throws(APIError) -> ProviderSpec {
        try await changes.withPermit { () async throws(APIError) -> ProviderSpec in
            let provider = try RegistryRecord.provider(record)
            _ = try await call("provider.upsert", ["record": try storedRecord(provider, keyFromConfig: false)])
            try await reload()
            return provider
        }
    }

    /// A patched provider, and whether its key was dropped.
    struct PatchedProvider: Sendable {
        var provider: ProviderSpec
        /// The patch moved the provider to another host or type without sending `api_key`:
        /// the old key was dropped rather than sent somewhere new.
        var keyDropped: Bool
    }

    /// Changes some fields of a provider. A patch without `api_key` keeps the stored key,
    /// unless it changes where the key would be sent (`base_url`, `base_urls` or `type`):
    /// then the key is dropped, and must be sent again with the patch to be kept.
    func patchProvider(id: String, _ patch: JSONValue) async throws(APIError) -> PatchedProvider {
        try await changes.withPermit { () async throws(APIError) -> PatchedProvider in
            guard let existing = engine.providers.first(where: { $0.id == id }) else { throw APIError(.notFound, "no provider with id \(id)", code: "not_found") }
            guard case .object(let fields) = patch else { throw APIError.invalidField("body", "expected a JSON object") }
            if let newID = fields["id"], newID != .string(id) { throw APIError.invalidField("id", "cannot be changed (delete and create instead)") }
            var merged = RegistryRecord.json(existing, withKey: true).objectValue ?? [:]
            if fields["base_url"] != nil { merged["base_urls"] = nil }
            for (key, value) in fields { merged[key] = value }
            var provider = try RegistryRecord.provider(.object(merged))
            let moved = provider.baseURLs != existing.baseURLs || provider.type != existing.type
            let keySent = fields["api_key"] != nil
            let keyDropped = moved && !keySent && !existing.apiKey.isEmpty
            if keyDropped { provider.apiKey = "" }
            let keyFromConfig = !keySent && !keyDropped && configKeys.withLock { $0[id] } == existing.apiKey
            _ = try await call("provider.upsert", ["record": try storedRecord(provider, keyFromConfig: keyFromConfig)])
            try await reload()
            return PatchedProvider(provider: provider, keyDropped: keyDropped)
        }
    }

    /// Deletes a provider no model uses.
    func deleteProvider(id: String) async throws(APIError) {
        try await changes.withPermit { () async throws(APIError) in
            let users = engine.models.filter { $0.providerID == id }.map(\.id)
            guard users.isEmpty else {
                throw APIError(.conflict, "provider \(id) is used by model(s) \(users.joined(separator: ", ")); delete or move them first", code: "in_use")
            }
            guard try await call("provider.delete", ["id": .string(id)])["deleted"] == .bool(true) else {
                throw APIError(.notFound, "no provider with id \(id)", code: "not_found")
            }
            try await reload()
        }
    }

    /// Creates or replaces a model.
    func upsertModel(_ record: JSONValue) async throws(APIError) -> ModelSpec {
        try await changes.withPermit { () async throws(APIError) -> ModelSpec in
            let model = try RegistryRecord.model(record, providers: engine.providers)
            _ = try await call("model.upsert", ["record": RegistryRecord.json(model)])
            try await reload()
            return model
        }
    }

    /// Changes some fields of a model.
    func patchModel(id: String, _ patch: JSONValue) async throws(APIError) -> ModelSpec {
        try await changes.withPermit { () async throws(APIError) -> ModelSpec in
            guard let existing = engine.models.first(where: { $0.id == id }) else { throw APIError(.notFound, "no model with id \(id)", code: "not_found") }
            guard case .object(let fields) = patch else { throw APIError.invalidField("body", "expected a JSON object") }
            if let newID = fields["id"], newID != .string(id) { throw APIError.invalidField("id", "cannot be changed (delete and create instead)") }
            var merged = RegistryRecord.json(existing).objectValue ?? [:]
            for (key, value) in fields { merged[key] = value }
            let model = try RegistryRecord.model(.object(merged), providers: engine.providers)
            _ = try await call("model.upsert", ["record": RegistryRecord.json(model)])
            try await reload()
            return model
        }
    }

    /// Deletes a model.
    func deleteModel(id: String) async throws(APIError) {
        try await changes.withPermit { () async throws(APIError) in
            guard try await call("model.delete", ["id": .string(id)])["deleted"] == .bool(true) else {
                throw APIError(.notFound, "no model with id \(id)", code: "not_found")
            }
            try await reload()
        }
    }

    /// Replaces the default routing policy.
    func putRouting(_ record: JSONValue) async throws(APIError) -> Policy {
        try await changes.withPermit { () async throws(APIError) -> Policy in
            let policy = try RegistryRecord.routing(record)
            _ = try await call("routing_config.put", ["value": RegistryRecord.json(policy)])
            routingDefaults.withLock { $0 = policy }
            return policy
        }
    }

    private func call(_ operation: String, _ input: [String: JSONValue]) async throws(APIError) -> JSONValue {
        guard let store else {
            throw APIError(.serviceUnavailable, "no store is configured: registry changes need `store` (e.g. SQLiteStore)", type: "server_error", code: "no_store")
        }
        let reply = await store.call(operation, JSONValue.object(input).serialized)
        switch reply.status {
        case .ok: return (try? JSONValue.parse(reply.result)) ?? .null
        case .invalidArgument: throw APIError(.badRequest, reply.message, code: "invalid_field")
        default: throw APIError(.serviceUnavailable, "store: \(reply.message)", type: "server_error", code: "store_error")
        }
    }
}
