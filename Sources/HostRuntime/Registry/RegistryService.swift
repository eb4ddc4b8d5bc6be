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
/// THREAD: safe from any task; changes are serialized so the engine never sees a half-applied
/// one.
final class RegistryService: Sendable {
    private let engine: Engine
    private let store: StoreInstance?
    private let logger: Logger
    private let routingDefaults: Mutex<Policy>
    /// Serializes read-modify-write of the registry.
    private let changes = AsyncSemaphore(1)

    init(engine: Engine, store: StoreInstance?, routing: Policy, logger: Logger) {
        self.engine = engine
        self.store = store
        self.logger = logger
        routingDefaults = Mutex(routing)
    }

    /// The default policy requests start from.
    var routing: Policy { routingDefaults.withLock { $0 } }

    /// Seeds the store with the config's providers and models (only ids it does not have yet,
    /// so admin changes win over the file) and loads the store's registry into the engine.
    func seedAndLoad(providers: [ProviderSpec], models: [ModelSpec]) async throws(APIError) {
        guard store != nil else { return }
        for provider in providers {
            _ = try await call("provider.upsert", ["record": RegistryRecord.json(provider, withKey: true), "only_if_absent": .bool(true)])
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
    func applyConfig(providers: [ProviderSpec], models: [ModelSpec], routing: Policy) async throws(APIError) {
        try await changes.withPermit { () async throws(APIError) in
            guard store != nil else {
                engine.replaceRegistry(providers: providers, models: models)
                routingDefaults.withLock { $0 = routing }
                return
            }
            routingDefaults.withLock { $0 = routing }
            try await seedAndLoad(providers: providers, models: models)
        }
    }

    /// Reads every provider and model from the store into the engine; unreadable records are
    /// skipped and logged rather than taking the registry down.
    private func reload() async throws(APIError) {
        var providers: [ProviderSpec] = []
        for record in try await call("provider.list", [:])["records"]?.arrayValue ?? [] {
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
            _ = try await call("provider.upsert", ["record": RegistryRecord.json(provider, withKey: true)])
            try await reload()
            return provider
        }
    }

    /// Changes some fields of a provider; a patch without `api_key` keeps the stored key.
    func patchProvider(id: String, _ patch: JSONValue) async throws(APIError) -> ProviderSpec {
        try await changes.withPermit { () async throws(APIError) -> ProviderSpec in
            guard let existing = engine.providers.first(where: { $0.id == id }) else { throw APIError(.notFound, "no provider with id \(id)", code: "not_found") }
            guard case .object(let fields) = patch else { throw APIError.invalidField("body", "expected a JSON object") }
            if let newID = fields["id"], newID != .string(id) { throw APIError.invalidField("id", "cannot be changed (delete and create instead)") }
            var merged = RegistryRecord.json(existing, withKey: true).objectValue ?? [:]
            if fields["base_url"] != nil { merged["base_urls"] = nil }
            for (key, value) in fields { merged[key] = value }
            let provider = try RegistryRecord.provider(.object(merged))
            _ = try await call("provider.upsert", ["record": RegistryRecord.json(provider, withKey: true)])
            try await reload()
            return provider
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
