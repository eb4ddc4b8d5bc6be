import Engine
import TokenHubCore

/// Reads the `providers`, `models` and `routing` sections into the engine's types.
enum RegistryConfigReader {
    static let routingModes: Set<String> = ["cheap", "normal", "high_confidence", "planning", "adversarial"]

    static func providers(_ node: ConfigNode) throws(ConfigError) -> [ProviderSpec] {
        var seen: Set<String> = []
        return try node.sequence().map { (entry) throws(ConfigError) -> ProviderSpec in
            let members = try entry.mapping(allowed: ["id", "type", "base_url", "base_urls", "api_key", "timeout_ms", "enabled"])
            let id = try requiredID(members, in: entry)
            guard seen.insert(id).inserted else { throw members["id"]!.error(.badValue, "duplicate provider id \"\(id)\"") }
            guard let typeNode = members["type"] else {
                throw entry.error(.missingKey, "missing `type` (one of \(ProviderType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let typeText = try typeNode.string()
            guard let type = ProviderType(rawValue: typeText) else {
                throw typeNode.error(.badValue, "expected one of \(ProviderType.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(typeText)\"")
            }
            var spec = ProviderSpec(id: id, type: type)
            if let url = members["base_url"] { spec.baseURLs = [try validURL(url)] }
            if let urls = members["base_urls"] {
                spec.baseURLs = try urls.sequence().map { (url) throws(ConfigError) in try validURL(url) }
            }
            if type != .echo, spec.baseURLs.isEmpty {
                throw entry.error(.missingKey, "missing `base_url` (a \(type.rawValue) provider needs an endpoint)")
            }
            if let key = members["api_key"], !key.isNull { spec.apiKey = try key.string() }
            if let timeout = members["timeout_ms"] { spec.timeoutMs = try timeout.int(in: 1...3_600_000) }
            if let enabled = members["enabled"] { spec.enabled = try enabled.bool() }
            return spec
        }
    }

    static func models(_ node: ConfigNode, providers: [ProviderSpec]) throws(ConfigError) -> [ModelSpec] {
        let providerIDs = Set(providers.map(\.id))
        var seen: Set<String> = []
        return try node.sequence().map { (entry) throws(ConfigError) -> ModelSpec in
            let members = try entry.mapping(allowed: [
                "id", "provider", "upstream_model", "weight", "max_context_tokens",
                "input_price_per_1k", "output_price_per_1k", "enabled",
            ])
            let id = try requiredID(members, in: entry)
            guard seen.insert(id).inserted else { throw members["id"]!.error(.badValue, "duplicate model id \"\(id)\"") }
            guard let providerNode = members["provider"] else { throw entry.error(.missingKey, "missing `provider`") }
            let provider = try providerNode.string()
            guard providerIDs.contains(provider) else {
                throw providerNode.error(.badValue, "no provider with id \"\(provider)\" (known: \(providerIDs.sorted().joined(separator: ", ")))")
            }
            var spec = ModelSpec(id: id, providerID: provider)
            if let name = members["upstream_model"] { spec.upstreamName = try name.string() }
            if let weight = members["weight"] { spec.weight = try weight.int(in: 0...10) }
            if let context = members["max_context_tokens"] { spec.maxContextTokens = try context.int(in: 1...100_000_000) }
            if let price = members["input_price_per_1k"] { spec.inputPricePer1K = try price.double(in: 0...1000) }
            if let price = members["output_price_per_1k"] { spec.outputPricePer1K = try price.double(in: 0...1000) }
            if let enabled = members["enabled"] { spec.enabled = try enabled.bool() }
            return spec
        }
    }

    static func routing(_ node: ConfigNode) throws(ConfigError) -> Policy {
        var policy = Policy()
        let members = try node.mapping(allowed: ["mode", "max_budget_usd", "max_latency_ms", "min_weight"])
        if let mode = members["mode"] {
            let text = try mode.string()
            guard routingModes.contains(text) else {
                throw mode.error(.badValue, "expected one of \(routingModes.sorted().joined(separator: ", ")), got \"\(text)\"")
            }
            policy.mode = text
        }
        if let budget = members["max_budget_usd"] { policy.maxBudgetUSD = try budget.double(in: 0...10_000) }
        if let latency = members["max_latency_ms"] { policy.maxLatencyMs = try latency.int(in: 1...3_600_000) }
        if let weight = members["min_weight"] { policy.minWeight = try weight.int(in: 0...10) }
        return policy
    }

    private static func requiredID(_ members: [String: ConfigNode], in entry: ConfigNode) throws(ConfigError) -> String {
        guard let idNode = members["id"] else { throw entry.error(.missingKey, "missing `id`") }
        let id = try idNode.string()
        guard !id.isEmpty else { throw idNode.error(.badValue, "expected a non-empty id") }
        return id
    }

    private static func validURL(_ node: ConfigNode) throws(ConfigError) -> String {
        let text = try node.string()
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            throw node.error(.badValue, "expected an http:// or https:// URL, got \"\(text)\"")
        }
        return text
    }
}
