/// One chat request as the engine sees it, whichever API it arrived through.
public struct ChatRequest: JSONPayload, Hashable {
    /// The conversation; each message is passed to the provider as given.
    public var messages: [JSONValue]
    /// A registered model ID pins the model; "" (or an unknown ID) lets the router choose.
    public var modelHint: String
    /// Makes `modelHint` a demand: the request goes to that model or fails with
    /// `unknown_model`, naming it, instead of being routed elsewhere.
    public var modelStrict: Bool
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
        modelStrict: Bool = false,
        estimatedInputTokens: Int = 0,
        parameters: [String: JSONValue] = [:],
        stream: Bool = false,
        outputSchema: JSONValue? = nil
    ) {
        self.messages = messages
        self.modelHint = modelHint
        self.modelStrict = modelStrict
        self.estimatedInputTokens = estimatedInputTokens
        self.parameters = parameters
        self.stream = stream
        self.outputSchema = outputSchema
    }

    /// Reads `{messages, model_hint, model_strict, estimated_input_tokens, parameters, stream, output_schema}`.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        guard case .array(let messages)? = fields["messages"] else { throw PayloadError("messages: required, expected an array") }
        self.messages = messages
        modelHint = try fields.string("model_hint")
        modelStrict = try fields.bool("model_strict", default: false)
        estimatedInputTokens = try fields.int("estimated_input_tokens", default: 0)
        parameters = fields["parameters"]?.objectValue ?? [:]
        stream = try fields.bool("stream", default: false)
        outputSchema = fields["output_schema"]
    }

    /// Writes `json`'s bytes directly (on every request's path), keys in sorted order.
    public func write(to output: inout JSONOutput) {
        output.open()
        output.key("estimated_input_tokens"); output.number(Double(estimatedInputTokens))
        output.key("messages"); output.value(.array(messages))
        output.key("model_hint"); output.string(modelHint)
        output.key("model_strict"); output.bool(modelStrict)
        output.key("output_schema"); output.value(outputSchema ?? .null)
        output.key("parameters"); output.value(.object(parameters))
        output.key("stream"); output.bool(stream)
        output.close()
    }

    /// The request as JSON.
    public var json: JSONValue {
        .object([
            "messages": .array(messages), "model_hint": .string(modelHint), "model_strict": .bool(modelStrict),
            "estimated_input_tokens": .number(Double(estimatedInputTokens)), "parameters": .object(parameters),
            "stream": .bool(stream), "output_schema": outputSchema ?? .null,
        ])
    }
}

/// How the router should trade cost, latency and quality for one request.
public struct Policy: JSONPayload, Hashable {
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

    /// Reads `{mode, max_budget_usd, max_latency_ms, min_weight}`; absent fields take the defaults of `init()`.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        let defaults = Policy()
        mode = try fields.string("mode", default: defaults.mode)
        maxBudgetUSD = try fields.double("max_budget_usd", default: defaults.maxBudgetUSD)
        maxLatencyMs = try fields.int("max_latency_ms", default: defaults.maxLatencyMs)
        minWeight = try fields.int("min_weight", default: defaults.minWeight)
    }

    /// Writes `json`'s bytes directly, keys in sorted order.
    public func write(to output: inout JSONOutput) {
        output.open()
        output.key("max_budget_usd"); output.number(maxBudgetUSD)
        output.key("max_latency_ms"); output.number(Double(maxLatencyMs))
        output.key("min_weight"); output.number(Double(minWeight))
        output.key("mode"); output.string(mode)
        output.close()
    }

    /// The policy as JSON.
    public var json: JSONValue {
        .object([
            "mode": .string(mode), "max_budget_usd": .number(maxBudgetUSD),
            "max_latency_ms": .number(Double(maxLatencyMs)), "min_weight": .number(Double(minWeight)),
        ])
    }
}
