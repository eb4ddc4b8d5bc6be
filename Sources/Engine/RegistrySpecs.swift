/// The wire protocol a provider speaks.
public enum ProviderType: String, Sendable, Hashable, CaseIterable {
    /// Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, NIM, Groq...).
    case openai
    /// Anthropic's Messages API.
    case anthropic
    /// Several OpenAI-compatible vLLM base URLs, used round robin.
    case vllm
    /// Answers with the prompt, without any network call: for smoke tests and overhead
    /// measurements, never for production traffic.
    case echo
}

/// One upstream provider.
public struct ProviderSpec: Sendable, Hashable, CustomStringConvertible {
    /// Unique provider ID, referenced by models.
    public var id: String
    /// The protocol it speaks.
    public var type: ProviderType
    /// Base URLs (one for most types; several for vllm).
    public var baseURLs: [String]
    /// The provider key. Never logged, never returned by an API.
    public var apiKey: String
    /// Per-attempt timeout.
    public var timeoutMs: Int
    /// Disabled providers' models are never routed to.
    public var enabled: Bool

    /// Creates a provider.
    public init(id: String, type: ProviderType, baseURLs: [String] = [], apiKey: String = "", timeoutMs: Int = 60_000, enabled: Bool = true) {
        self.id = id
        self.type = type
        self.baseURLs = baseURLs
        self.apiKey = apiKey
        self.timeoutMs = timeoutMs
        self.enabled = enabled
    }

    /// Describes the provider without its key.
    public var description: String {
        "ProviderSpec(id: \(id), type: \(type.rawValue), baseURLs: \(baseURLs), apiKey: \(apiKey.isEmpty ? "none" : "<redacted>"), enabled: \(enabled))"
    }
}

/// One routable model.
public struct ModelSpec: Sendable, Hashable {
    /// Unique model ID clients use as a hint (may contain `/`).
    public var id: String
    /// The provider that serves it.
    public var providerID: String
    /// The model's name at the provider; defaults to `id`.
    public var upstreamName: String
    /// Quality weight 0–10; higher wins in quality-leaning modes.
    public var weight: Int
    /// The context window in tokens.
    public var maxContextTokens: Int
    /// US dollars per 1000 input tokens.
    public var inputPricePer1K: Double
    /// US dollars per 1000 output tokens.
    public var outputPricePer1K: Double
    /// Disabled models are never routed to.
    public var enabled: Bool

    /// Creates a model.
    public init(id: String, providerID: String, upstreamName: String? = nil, weight: Int = 5, maxContextTokens: Int = 8192,
                inputPricePer1K: Double = 0, outputPricePer1K: Double = 0, enabled: Bool = true) {
        self.id = id
        self.providerID = providerID
        self.upstreamName = upstreamName ?? id
        self.weight = weight
        self.maxContextTokens = maxContextTokens
        self.inputPricePer1K = inputPricePer1K
        self.outputPricePer1K = outputPricePer1K
        self.enabled = enabled
    }
}
