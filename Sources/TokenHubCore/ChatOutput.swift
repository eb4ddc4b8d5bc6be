/// Which model served a request, and why.
public struct Decision: JSONPayload, Hashable {
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

    /// Reads `{model_id, provider_id, estimated_cost_usd, reason}`; absent fields are empty.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        modelID = try fields.string("model_id")
        providerID = try fields.string("provider_id")
        estimatedCostUSD = try fields.double("estimated_cost_usd", default: 0)
        reason = try fields.string("reason")
    }

    /// The decision as JSON.
    /// Writes `json`'s bytes directly, keys in sorted order.
    public func write(to output: inout JSONOutput) {
        output.open()
        output.key("estimated_cost_usd"); output.number(estimatedCostUSD)
        output.key("model_id"); output.string(modelID)
        output.key("provider_id"); output.string(providerID)
        output.key("reason"); output.string(reason)
        output.close()
    }

    public var json: JSONValue {
        .object(["model_id": .string(modelID), "provider_id": .string(providerID),
                 "estimated_cost_usd": .number(estimatedCostUSD), "reason": .string(reason)])
    }
}

/// Why a provider call failed; decides the failover and the HTTP status.
public enum ErrorClass: String, Sendable, Hashable, CaseIterable {
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
    /// A strict pin (`model_strict`) named a model that is not registered, or not eligible.
    case unknownModel = "unknown_model"
}

/// One call to a provider within a request (each retry and each switch is one), as tracing
/// and request logs show it.
public struct ProviderAttempt: JSONPayload, Hashable {
    /// The provider and model called.
    public var providerID: String, modelID: String
    /// When the call started, in Unix milliseconds (fractional), and how long it took.
    public var startUnixMs: Double, durationMs: Double
    /// "" when the call succeeded; otherwise its error class.
    public var errorClass: String

    /// Creates an attempt.
    public init(providerID: String, modelID: String, startUnixMs: Double, durationMs: Double, errorClass: String = "") {
        self.providerID = providerID
        self.modelID = modelID
        self.startUnixMs = startUnixMs
        self.durationMs = durationMs
        self.errorClass = errorClass
    }

    /// Reads `{provider, model, start_unix_ms, duration_ms, error_class?}`.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        providerID = try fields.string("provider")
        modelID = try fields.string("model")
        startUnixMs = try fields.double("start_unix_ms", default: 0)
        durationMs = try fields.double("duration_ms", default: 0)
        errorClass = try fields.string("error_class")
    }

    /// Writes `json`'s bytes directly, keys in sorted order.
    public func write(to output: inout JSONOutput) {
        output.open()
        output.key("duration_ms"); output.number(durationMs)
        if !errorClass.isEmpty { output.key("error_class"); output.string(errorClass) }
        output.key("model"); output.string(modelID)
        output.key("provider"); output.string(providerID)
        output.key("start_unix_ms"); output.number(startUnixMs)
        output.close()
    }

    /// The attempt as JSON (`error_class` only when set).
    public var json: JSONValue {
        var members: [String: JSONValue] = ["provider": .string(providerID), "model": .string(modelID),
                                            "start_unix_ms": .number(startUnixMs), "duration_ms": .number(durationMs)]
        if !errorClass.isEmpty { members["error_class"] = .string(errorClass) }
        return .object(members)
    }
}

/// The result of a chat or orchestration dispatch.
public struct ChatOutput: JSONPayload, Hashable {
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
    /// The provider calls the engine made for it, in order (empty when none was made, and
    /// from dispatchers that do not report them).
    public var attempts: [ProviderAttempt]

    /// Creates an output.
    public init(decision: Decision = Decision(), response: JSONValue = .null, latencyMs: Int = 0,
                error: String = "", errorClass: ErrorClass? = nil, attempts: [ProviderAttempt] = []) {
        self.decision = decision
        self.response = response
        self.latencyMs = latencyMs
        self.error = error
        self.errorClass = errorClass
        self.attempts = attempts
    }

    /// The output as a request log keeps it: decision, latency and error, and of the response
    /// only its `usage`. Logs carry no prompt or answer text, and stay small on the hot path.
    public var forLog: ChatOutput {
        var reduced = self
        reduced.response = response["usage"].map { .object(["usage": $0]) } ?? .null
        return reduced
    }

    /// Reads an output; absent fields are empty, an unknown error class reads as fatal.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        decision = try fields.payload("decision", as: Decision.self) ?? Decision()
        response = fields["response"] ?? .null
        latencyMs = try fields.int("latency_ms", default: 0)
        error = try fields.string("error")
        let rawClass = try fields.string("error_class")
        errorClass = rawClass.isEmpty ? nil : (ErrorClass(rawValue: rawClass) ?? .fatal)
        switch fields["attempts"] {
        case nil: attempts = []
        case .array(let items)?:
            attempts = []
            for (index, item) in items.enumerated() {
                do {
                    attempts.append(try ProviderAttempt(json: item))
                } catch {
                    throw PayloadError("attempts[\(index)].\(error.message)")
                }
            }
        case let other?: throw PayloadError("attempts: expected an array, got \(other.typeName)")
        }
    }

    /// Writes `json`'s bytes directly (on every request's path), keys in sorted order.
    public func write(to output: inout JSONOutput) {
        output.open()
        if !attempts.isEmpty { output.key("attempts"); output.array(attempts) }
        output.key("decision"); output.payload(decision)
        output.key("error"); output.string(error)
        output.key("error_class"); output.string(errorClass?.rawValue ?? "")
        output.key("latency_ms"); output.number(Double(latencyMs))
        output.key("response"); output.value(response)
        output.close()
    }

    /// Every field, `error_class` as "" when unset, as the ABI schema says (`attempts` only
    /// when there are some).
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "decision": decision.json, "response": response, "latency_ms": .number(Double(latencyMs)),
            "error": .string(error), "error_class": .string(errorClass?.rawValue ?? ""),
        ]
        if !attempts.isEmpty { members["attempts"] = .array(attempts.map(\.json)) }
        return .object(members)
    }
}

/// What `host_log_result` records: one row per request id.
public struct LogResult: JSONPayload, Hashable {
    /// The request being recorded.
    public var requestID: String
    /// The API key that authorised it, "" for none.
    public var apiKeyID: String
    /// "chat" or "plan".
    public var kind: String
    /// The routing or orchestration mode.
    public var mode: String
    /// What the dispatch produced, as `ChatOutput.forLog` reduces it.
    public var output: ChatOutput
    /// The dispatcher that served it, e.g. "direct".
    public var dispatcher: String
    /// The request's budget, which its reward is scored against (0 = the gateway's default).
    public var budgetUSD: Double
    /// The request's latency limit, which its reward is scored against (0 = the gateway's default).
    public var maxLatencyMs: Int
    /// The client's W3C `traceparent` (see `ChatInput.traceparent`), "" for none: tracing
    /// exporters continue its trace.
    public var traceparent: String

    /// Creates a record.
    public init(requestID: String, apiKeyID: String, kind: String, mode: String, output: ChatOutput, dispatcher: String,
                budgetUSD: Double = 0, maxLatencyMs: Int = 0, traceparent: String = "") {
        self.traceparent = traceparent
        self.requestID = requestID
        self.apiKeyID = apiKeyID
        self.kind = kind
        self.mode = mode
        self.output = output.forLog
        self.dispatcher = dispatcher
        self.budgetUSD = budgetUSD
        self.maxLatencyMs = maxLatencyMs
    }

    /// Reads `{request_id, api_key_id, kind, mode, output, dispatcher}`.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        requestID = try fields.requiredString("request_id")
        apiKeyID = try fields.string("api_key_id")
        kind = try fields.string("kind", default: "chat")
        mode = try fields.string("mode")
        output = try fields.payload("output", as: ChatOutput.self) ?? ChatOutput()
        dispatcher = try fields.string("dispatcher")
        budgetUSD = try fields.double("budget_usd", default: 0)
        maxLatencyMs = try fields.int("max_latency_ms", default: 0)
        traceparent = try fields.string("traceparent")
    }

    /// The record as JSON.
    public var json: JSONValue {
        .object(["request_id": .string(requestID), "api_key_id": .string(apiKeyID), "kind": .string(kind),
                 "mode": .string(mode), "output": output.json, "dispatcher": .string(dispatcher),
                 "budget_usd": .number(budgetUSD), "max_latency_ms": .number(Double(maxLatencyMs))]
                    .merging(traceparent.isEmpty ? [:] : ["traceparent": .string(traceparent)]) { $1 })
    }

    /// How well the request went, from 0 to 1: 0 when it failed; else 1 less up to 0.5 for
    /// cost (spending the whole budget) and up to 0.5 for latency (taking the whole limit).
    public func reward(defaultBudgetUSD: Double, defaultMaxLatencyMs: Int) -> Double {
        guard output.error.isEmpty else { return 0 }
        let budget = budgetUSD > 0 ? budgetUSD : defaultBudgetUSD
        let limit = Double(maxLatencyMs > 0 ? maxLatencyMs : defaultMaxLatencyMs)
        let costShare = budget > 0 ? min(1, output.decision.estimatedCostUSD / budget) : 0
        let latencyShare = limit > 0 ? min(1, Double(output.latencyMs) / limit) : 0
        return max(0, 1 - 0.5 * costShare - 0.5 * latencyShare)
    }
}
