import Engine
import TokenHubCore
import Yams

/// Providers, models and the routing config as JSON records: the store keeps them, the admin
/// API takes them. Records use the same keys as `config.yaml`, and are validated by the very
/// reader that validates the config file, so both accept and reject the same things.
enum RegistryRecord {
    /// A provider as a record; `withKey: false` (the admin API) leaves the key out.
    static func json(_ provider: ProviderSpec, withKey: Bool) -> JSONValue {
        var record: [String: JSONValue] = [
            "id": .string(provider.id), "type": .string(provider.type.rawValue),
            "base_urls": .array(provider.baseURLs.map(JSONValue.string)),
            "timeout_ms": .number(Double(provider.timeoutMs)), "enabled": .bool(provider.enabled),
        ]
        if withKey {
            if !provider.apiKey.isEmpty { record["api_key"] = .string(provider.apiKey) }
        } else {
            record["has_api_key"] = .bool(!provider.apiKey.isEmpty)
        }
        return .object(record)
    }

    static func json(_ model: ModelSpec) -> JSONValue {
        .object([
            "id": .string(model.id), "provider": .string(model.providerID), "upstream_model": .string(model.upstreamName),
            "weight": .number(Double(model.weight)), "max_context_tokens": .number(Double(model.maxContextTokens)),
            "input_price_per_1k": .number(model.inputPricePer1K), "output_price_per_1k": .number(model.outputPricePer1K),
            "enabled": .bool(model.enabled),
        ])
    }

    static func json(_ policy: Policy) -> JSONValue {
        .object([
            "mode": .string(policy.mode), "max_budget_usd": .number(policy.maxBudgetUSD),
            "max_latency_ms": .number(Double(policy.maxLatencyMs)), "min_weight": .number(Double(policy.minWeight)),
        ])
    }

    /// A provider from a record, with the config reader's checks.
    static func provider(_ record: JSONValue) throws(APIError) -> ProviderSpec {
        let node = try node(record)
        do {
            guard let provider = try RegistryConfigReader.providers(node).first else { throw APIError.invalidField("body", "expected a provider") }
            return provider
        } catch let error as ConfigError {
            throw Self.apiError(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.invalidField("body", "\(error)")
        }
    }

    /// A model from a record; its provider must be one of `providers`.
    static func model(_ record: JSONValue, providers: [ProviderSpec]) throws(APIError) -> ModelSpec {
        let node = try node(record)
        do {
            guard let model = try RegistryConfigReader.models(node, providers: providers).first else { throw APIError.invalidField("body", "expected a model") }
            return model
        } catch let error as ConfigError {
            throw Self.apiError(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.invalidField("body", "\(error)")
        }
    }

    /// A routing config from a record.
    static func routing(_ record: JSONValue) throws(APIError) -> Policy {
        guard case .object = record else { throw APIError.invalidField("body", "expected a JSON object") }
        do {
            let root = try Yams.compose(yaml: record.serializedString) ?? Node("")
            return try RegistryConfigReader.routing(ConfigNode(node: root, keyPath: "", source: "body", environment: [:]))
        } catch let error as ConfigError {
            throw Self.apiError(error)
        } catch {
            throw APIError.invalidField("body", "\(error)")
        }
    }

    /// The record as a one-element YAML sequence (JSON is YAML), for the config reader.
    private static func node(_ record: JSONValue) throws(APIError) -> ConfigNode {
        guard case .object(let members) = record else { throw APIError.invalidField("body", "expected a JSON object") }
        // `has_api_key` is what GET shows; sending a listed record back must work.
        var cleaned = members
        cleaned["has_api_key"] = nil
        do {
            let root = try Yams.compose(yaml: "- " + JSONValue.object(cleaned).serializedString) ?? Node("")
            return ConfigNode(node: root, keyPath: "", source: "body", environment: [:])
        } catch {
            throw APIError.invalidField("body", "not a valid record: \(error)")
        }
    }

    /// `[0].type: expected …` → field `type`, the reader's message.
    private static func apiError(_ error: ConfigError) -> APIError {
        var field = error.keyPath
        if let dot = field.firstIndex(of: "."), field.hasPrefix("[") { field = String(field[field.index(after: dot)...]) }
        if field.hasPrefix("[") { field = "body" }
        return APIError.invalidField(field.isEmpty ? "body" : field, error.message)
    }
}
