/// The input of a chat dispatch (`on_chat`, `ChatWorkflow`, `host_route_and_send`).
public struct ChatInput: JSONPayload, Hashable {
    /// Unique per request; workflow IDs and log rows are keyed by it.
    public var requestID: String
    /// The API key that authorised the request, "" when none was used.
    public var apiKeyID: String
    /// What to send.
    public var request: ChatRequest
    /// How to route it.
    public var policy: Policy
    /// The client's `Idempotency-Key` header, "" when it sent none: a repeated key with the
    /// same API key returns the first request's answer (durable dispatchers honour it).
    public var idempotencyKey: String
    /// The request's one deadline, set by the host when the request arrived (arrival plus the
    /// policy's `max_latency_ms`), in Unix milliseconds; 0 when none was set. Everyone
    /// involved (the host, dispatchers, workflows, the engine) stops at this same instant.
    public var deadlineUnixMs: Int64
    /// The client's W3C `traceparent` header as the host validated it, "" when it sent none
    /// (or an invalid one). The engine sends it on with every provider call.
    public var traceparent: String

    /// Creates an input.
    public init(requestID: String, apiKeyID: String = "", request: ChatRequest, policy: Policy = Policy(), idempotencyKey: String = "",
                deadlineUnixMs: Int64 = 0, traceparent: String = "") {
        self.requestID = requestID
        self.apiKeyID = apiKeyID
        self.request = request
        self.policy = policy
        self.idempotencyKey = idempotencyKey
        self.deadlineUnixMs = deadlineUnixMs
        self.traceparent = traceparent
    }

    /// Reads `{request_id, api_key_id, request, policy}`; `api_key_id` and `policy` may be absent.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        requestID = try fields.requiredString("request_id")
        apiKeyID = try fields.string("api_key_id")
        guard let request = try fields.payload("request", as: ChatRequest.self) else { throw PayloadError("request: required") }
        self.request = request
        policy = try fields.payload("policy", as: Policy.self) ?? Policy()
        idempotencyKey = try fields.string("idempotency_key")
        deadlineUnixMs = Int64(try fields.int("deadline_unix_ms", default: 0))
        traceparent = try fields.string("traceparent")
    }

    /// Writes `json`'s bytes directly (on every request's path), keys in sorted order.
    public func write(to output: inout JSONOutput) {
        output.open()
        output.key("api_key_id"); output.string(apiKeyID)
        if deadlineUnixMs > 0 { output.key("deadline_unix_ms"); output.number(Double(deadlineUnixMs)) }
        if !idempotencyKey.isEmpty { output.key("idempotency_key"); output.string(idempotencyKey) }
        output.key("policy"); output.payload(policy)
        output.key("request"); output.payload(request)
        output.key("request_id"); output.string(requestID)
        if !traceparent.isEmpty { output.key("traceparent"); output.string(traceparent) }
        output.close()
    }

    /// The input as JSON (`idempotency_key`, `deadline_unix_ms` and `traceparent` only when set).
    public var json: JSONValue {
        var members: [String: JSONValue] = ["request_id": .string(requestID), "api_key_id": .string(apiKeyID), "request": request.json, "policy": policy.json]
        if !idempotencyKey.isEmpty { members["idempotency_key"] = .string(idempotencyKey) }
        if deadlineUnixMs > 0 { members["deadline_unix_ms"] = .number(Double(deadlineUnixMs)) }
        if !traceparent.isEmpty { members["traceparent"] = .string(traceparent) }
        return .object(members)
    }
}

/// How an orchestration combines several model calls.
public struct OrchestrationDirective: JSONPayload, Hashable {
    /// planning, adversarial, vote or refine.
    public var mode: String
    /// Rounds (adversarial, refine) or voters (vote); 0 means the mode's default.
    public var iterations: Int
    /// Pins the model that drafts; "" lets the router choose.
    public var primaryModelID: String
    /// Pins the model that reviews or judges; "" lets the router choose.
    public var reviewModelID: String
    /// Minimum weight of the drafting model.
    public var primaryMinWeight: Int
    /// Minimum weight of the reviewing model.
    public var reviewMinWeight: Int

    /// Creates a directive.
    public init(mode: String, iterations: Int = 0, primaryModelID: String = "", reviewModelID: String = "",
                primaryMinWeight: Int = 0, reviewMinWeight: Int = 0) {
        self.mode = mode
        self.iterations = iterations
        self.primaryModelID = primaryModelID
        self.reviewModelID = reviewModelID
        self.primaryMinWeight = primaryMinWeight
        self.reviewMinWeight = reviewMinWeight
    }

    /// Reads a directive; only `mode` is required.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        mode = try fields.requiredString("mode")
        iterations = try fields.int("iterations", default: 0)
        primaryModelID = try fields.string("primary_model_id")
        reviewModelID = try fields.string("review_model_id")
        primaryMinWeight = try fields.int("primary_min_weight", default: 0)
        reviewMinWeight = try fields.int("review_min_weight", default: 0)
    }

    /// The directive as JSON.
    public var json: JSONValue {
        .object([
            "mode": .string(mode), "iterations": .number(Double(iterations)),
            "primary_model_id": .string(primaryModelID), "review_model_id": .string(reviewModelID),
            "primary_min_weight": .number(Double(primaryMinWeight)), "review_min_weight": .number(Double(reviewMinWeight)),
        ])
    }
}

/// The input of an orchestration dispatch (`on_plan`, `OrchestrationWorkflow`).
public struct OrchestrationInput: JSONPayload, Hashable {
    /// Unique per request.
    public var requestID: String
    /// The API key that authorised the request, "" when none was used.
    public var apiKeyID: String
    /// The task to plan, vote on or refine.
    public var request: ChatRequest
    /// How to orchestrate it.
    public var directive: OrchestrationDirective
    /// The client's `Idempotency-Key` header, "" when it sent none.
    public var idempotencyKey: String
    /// The request's one deadline in Unix milliseconds (see `ChatInput.deadlineUnixMs`); 0 for none.
    public var deadlineUnixMs: Int64
    /// The client's W3C `traceparent` (see `ChatInput.traceparent`); "" for none.
    public var traceparent: String

    /// Creates an input.
    public init(requestID: String, apiKeyID: String = "", request: ChatRequest, directive: OrchestrationDirective, idempotencyKey: String = "",
                deadlineUnixMs: Int64 = 0, traceparent: String = "") {
        self.requestID = requestID
        self.apiKeyID = apiKeyID
        self.request = request
        self.directive = directive
        self.idempotencyKey = idempotencyKey
        self.deadlineUnixMs = deadlineUnixMs
        self.traceparent = traceparent
    }

    /// Reads `{request_id, api_key_id, request, directive}`.
    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        requestID = try fields.requiredString("request_id")
        apiKeyID = try fields.string("api_key_id")
        guard let request = try fields.payload("request", as: ChatRequest.self) else { throw PayloadError("request: required") }
        guard let directive = try fields.payload("directive", as: OrchestrationDirective.self) else { throw PayloadError("directive: required") }
        self.request = request
        self.directive = directive
        idempotencyKey = try fields.string("idempotency_key")
        deadlineUnixMs = Int64(try fields.int("deadline_unix_ms", default: 0))
        traceparent = try fields.string("traceparent")
    }

    /// The input as JSON (`idempotency_key`, `deadline_unix_ms` and `traceparent` only when set).
    public var json: JSONValue {
        var members: [String: JSONValue] = ["request_id": .string(requestID), "api_key_id": .string(apiKeyID), "request": request.json, "directive": directive.json]
        if !idempotencyKey.isEmpty { members["idempotency_key"] = .string(idempotencyKey) }
        if deadlineUnixMs > 0 { members["deadline_unix_ms"] = .number(Double(deadlineUnixMs)) }
        if !traceparent.isEmpty { members["traceparent"] = .string(traceparent) }
        return .object(members)
    }
}
