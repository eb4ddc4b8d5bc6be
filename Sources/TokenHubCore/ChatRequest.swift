/// One chat request as the engine sees it, whichever API it arrived through.
public struct ChatRequest: Sendable, Hashable, Codable {
    /// The conversation; each message is passed to the provider as given.
    public var messages: [JSONValue]
    /// A registered model ID pins the model; "" (or an unknown ID) lets the router choose.
    public var modelHint: String
    /// The caller's estimate of input tokens; 0 means "estimate from the messages".
    public var estimatedInputTokens: Int
    /// Provider parameters passed through (temperature, max_tokens, tools, tool_choice...).
    public var parameters: [String: JSONValue]
    /// Whether the client asked for a server-sent event stream.
    public var stream: Bool
    /// A JSON schema the reply must satisfy, if any.
    public var outputSchema: JSONValue?

    /// Creates a request.
    public init(
        messages: [JSONValue],
        modelHint: String = "",
        estimatedInputTokens: Int = 0,
        parameters: [String: JSONValue] = [:],
        stream: Bool = false,
        outputSchema: JSONValue? = nil
    ) {
        self.messages = messages
        self.modelHint = modelHint
        self.estimatedInputTokens = estimatedInputTokens
        self.parameters = parameters
        self.stream = stream
        self.outputSchema = outputSchema
    }

    enum CodingKeys: String, CodingKey {
        case messages
        case modelHint = "model_hint"
        case estimatedInputTokens = "estimated_input_tokens"
        case parameters, stream
        case outputSchema = "output_schema"
    }

    /// Decodes a request; absent optional fields take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        messages = try c.decode([JSONValue].self, forKey: .messages)
        modelHint = try c.decodeIfPresent(String.self, forKey: .modelHint) ?? ""
        estimatedInputTokens = try c.decodeIfPresent(Int.self, forKey: .estimatedInputTokens) ?? 0
        parameters = try c.decodeIfPresent([String: JSONValue].self, forKey: .parameters) ?? [:]
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        outputSchema = try c.decodeIfPresent(JSONValue.self, forKey: .outputSchema)
        if outputSchema == .null { outputSchema = nil }
    }
}

/// How the router should trade cost, latency and quality for one request.
public struct Policy: Sendable, Hashable, Codable {
    /// The routing mode: cheap, normal, high_confidence, planning, adversarial.
    public var mode: String
    /// The most the request may cost, in US dollars.
    public var maxBudgetUSD: Double
    /// The deadline for the whole request, provider retries included.
    public var maxLatencyMs: Int
    /// Models with a lower weight (0–10) are not eligible.
    public var minWeight: Int

    /// Creates a policy.
    public init(mode: String = "normal", maxBudgetUSD: Double = 0.05, maxLatencyMs: Int = 20_000, minWeight: Int = 0) {
        self.mode = mode
        self.maxBudgetUSD = maxBudgetUSD
        self.maxLatencyMs = maxLatencyMs
        self.minWeight = minWeight
    }

    enum CodingKeys: String, CodingKey {
        case mode
        case maxBudgetUSD = "max_budget_usd"
        case maxLatencyMs = "max_latency_ms"
        case minWeight = "min_weight"
    }

    /// Decodes a policy; absent fields take the defaults of `init()`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Policy()
        mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? defaults.mode
        maxBudgetUSD = try c.decodeIfPresent(Double.self, forKey: .maxBudgetUSD) ?? defaults.maxBudgetUSD
        maxLatencyMs = try c.decodeIfPresent(Int.self, forKey: .maxLatencyMs) ?? defaults.maxLatencyMs
        minWeight = try c.decodeIfPresent(Int.self, forKey: .minWeight) ?? defaults.minWeight
    }
}
