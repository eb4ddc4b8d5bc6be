/// Which model served a request, and why.
public struct Decision: Sendable, Hashable, Codable {
    /// The model that answered.
    public var modelID: String
    /// The provider of that model.
    public var providerID: String
    /// The cost, from actual usage when the provider reported it.
    public var estimatedCostUSD: Double
    /// A short machine-readable reason, e.g. `routed-weight-8` or `escalated-context-overflow`.
    public var reason: String

    /// Creates a decision.
    public init(modelID: String = "", providerID: String = "", estimatedCostUSD: Double = 0, reason: String = "") {
        self.modelID = modelID
        self.providerID = providerID
        self.estimatedCostUSD = estimatedCostUSD
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case modelID = "model_id"
        case providerID = "provider_id"
        case estimatedCostUSD = "estimated_cost_usd"
        case reason
    }

    /// Decodes a decision; absent fields are empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelID = try c.decodeIfPresent(String.self, forKey: .modelID) ?? ""
        providerID = try c.decodeIfPresent(String.self, forKey: .providerID) ?? ""
        estimatedCostUSD = try c.decodeIfPresent(Double.self, forKey: .estimatedCostUSD) ?? 0
        reason = try c.decodeIfPresent(String.self, forKey: .reason) ?? ""
    }
}

/// Why a provider call failed; decides the failover and the HTTP status.
public enum ErrorClass: String, Sendable, Hashable, Codable, CaseIterable {
    /// The prompt does not fit the model's window.
    case contextOverflow = "context_overflow"
    /// The provider asked us to slow down.
    case rateLimited = "rate_limited"
    /// A failure worth retrying on the same model (timeouts, 5xx).
    case transient
    /// A failure no retry will fix on this model.
    case fatal
    /// No model passed the eligibility rules.
    case noEligibleModel = "no_eligible_model"
}

/// The result of a chat or orchestration dispatch.
public struct ChatOutput: Sendable, Hashable, Codable {
    /// Which model answered.
    public var decision: Decision
    /// The provider's answer in OpenAI chat-completion shape (`.null` on error).
    public var response: JSONValue
    /// Wall time of the dispatch.
    public var latencyMs: Int
    /// Empty on success; otherwise what went wrong.
    public var error: String
    /// Set when `error` is.
    public var errorClass: ErrorClass?

    /// Creates an output.
    public init(decision: Decision = Decision(), response: JSONValue = .null, latencyMs: Int = 0,
                error: String = "", errorClass: ErrorClass? = nil) {
        self.decision = decision
        self.response = response
        self.latencyMs = latencyMs
        self.error = error
        self.errorClass = errorClass
    }

    enum CodingKeys: String, CodingKey {
        case decision, response
        case latencyMs = "latency_ms"
        case error
        case errorClass = "error_class"
    }

    /// Decodes an output; absent fields are empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        decision = try c.decodeIfPresent(Decision.self, forKey: .decision) ?? Decision()
        response = try c.decodeIfPresent(JSONValue.self, forKey: .response) ?? .null
        latencyMs = try c.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
        error = try c.decodeIfPresent(String.self, forKey: .error) ?? ""
        let rawClass = try c.decodeIfPresent(String.self, forKey: .errorClass) ?? ""
        errorClass = rawClass.isEmpty ? nil : (ErrorClass(rawValue: rawClass) ?? .fatal)
    }

    /// Encodes every field, `error_class` as "" when unset, as the ABI schema says.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(decision, forKey: .decision)
        try c.encode(response, forKey: .response)
        try c.encode(latencyMs, forKey: .latencyMs)
        try c.encode(error, forKey: .error)
        try c.encode(errorClass?.rawValue ?? "", forKey: .errorClass)
    }
}

/// What `host_log_result` records: one row per request id.
public struct LogResult: Sendable, Hashable, Codable {
    /// The request being recorded.
    public var requestID: String
    /// The API key that authorised it, "" for none.
    public var apiKeyID: String
    /// "chat" or "plan".
    public var kind: String
    /// The routing or orchestration mode.
    public var mode: String
    /// What the dispatch produced.
    public var output: ChatOutput
    /// The dispatcher that served it, e.g. "direct".
    public var dispatcher: String

    /// Creates a record.
    public init(requestID: String, apiKeyID: String, kind: String, mode: String, output: ChatOutput, dispatcher: String) {
        self.requestID = requestID
        self.apiKeyID = apiKeyID
        self.kind = kind
        self.mode = mode
        self.output = output
        self.dispatcher = dispatcher
    }

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case apiKeyID = "api_key_id"
        case kind, mode, output, dispatcher
    }
}
