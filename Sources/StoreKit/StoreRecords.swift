import TokenHubCore

// The records the store operations exchange (the header's section 6), parsed once with
// errors naming the field, shared by every store backend.

/// One request's log row (`RequestLogRow`).
public struct RequestLogRow: Sendable, Equatable {
    public var requestID: String
    public var timeUnixMs: Int64
    public var apiKeyID, kind, mode, modelID, providerID, dispatcher: String
    public var estimatedCostUSD: Double
    public var latencyMs: Int64
    public var status, errorClass: String

    public init(requestID: String, timeUnixMs: Int64, apiKeyID: String, kind: String, mode: String, modelID: String,
                providerID: String, dispatcher: String, estimatedCostUSD: Double, latencyMs: Int64, status: String, errorClass: String) {
        self.requestID = requestID; self.timeUnixMs = timeUnixMs; self.apiKeyID = apiKeyID; self.kind = kind; self.mode = mode
        self.modelID = modelID; self.providerID = providerID; self.dispatcher = dispatcher; self.estimatedCostUSD = estimatedCostUSD
        self.latencyMs = latencyMs; self.status = status; self.errorClass = errorClass
    }

    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        requestID = try fields.requiredString("request_id")
        guard !requestID.isEmpty else { throw PayloadError("request_id: must not be empty") }
        timeUnixMs = Int64(try fields.int("time_unix_ms", default: 0))
        apiKeyID = try fields.string("api_key_id")
        kind = try fields.string("kind", default: "chat")
        mode = try fields.string("mode")
        modelID = try fields.string("model_id")
        providerID = try fields.string("provider_id")
        dispatcher = try fields.string("dispatcher")
        estimatedCostUSD = try fields.finite("estimated_cost_usd")
        latencyMs = Int64(try fields.int("latency_ms", default: 0))
        status = try fields.string("status", default: "ok")
        errorClass = try fields.string("error_class")
    }

    public var json: JSONValue {
        .object([
            "request_id": .string(requestID), "time_unix_ms": .number(Double(timeUnixMs)), "api_key_id": .string(apiKeyID),
            "kind": .string(kind), "mode": .string(mode), "model_id": .string(modelID), "provider_id": .string(providerID),
            "dispatcher": .string(dispatcher), "estimated_cost_usd": .number(estimatedCostUSD),
            "latency_ms": .number(Double(latencyMs)), "status": .string(status), "error_class": .string(errorClass),
        ])
    }
}

/// One request's reward entry (`RewardRow`).
public struct RewardRow: Sendable, Equatable {
    public var requestID: String
    public var timeUnixMs: Int64
    public var apiKeyID, kind, mode, modelID, providerID: String
    public var success: Bool
    public var costUSD: Double
    public var latencyMs: Int64
    public var reward: Double

    public init(requestID: String, timeUnixMs: Int64, apiKeyID: String, kind: String, mode: String, modelID: String,
                providerID: String, success: Bool, costUSD: Double, latencyMs: Int64, reward: Double) {
        self.requestID = requestID; self.timeUnixMs = timeUnixMs; self.apiKeyID = apiKeyID; self.kind = kind; self.mode = mode
        self.modelID = modelID; self.providerID = providerID; self.success = success; self.costUSD = costUSD
        self.latencyMs = latencyMs; self.reward = reward
    }

    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        requestID = try fields.requiredString("request_id")
        guard !requestID.isEmpty else { throw PayloadError("request_id: must not be empty") }
        timeUnixMs = Int64(try fields.int("time_unix_ms", default: 0))
        apiKeyID = try fields.string("api_key_id")
        kind = try fields.string("kind", default: "chat")
        mode = try fields.string("mode")
        modelID = try fields.string("model_id")
        providerID = try fields.string("provider_id")
        success = try fields.bool("success", default: false)
        costUSD = try fields.finite("cost_usd")
        latencyMs = Int64(try fields.int("latency_ms", default: 0))
        reward = try fields.double("reward", default: 0)
        guard (0...1).contains(reward) else { throw PayloadError("reward: expected 0 to 1, got \(reward)") }
    }

    public var json: JSONValue {
        .object([
            "request_id": .string(requestID), "time_unix_ms": .number(Double(timeUnixMs)), "api_key_id": .string(apiKeyID),
            "kind": .string(kind), "mode": .string(mode), "model_id": .string(modelID), "provider_id": .string(providerID),
            "success": .bool(success), "cost_usd": .number(costUSD), "latency_ms": .number(Double(latencyMs)), "reward": .number(reward),
        ])
    }
}

/// A TSDB point.
public struct TimeSeriesPoint: Sendable, Equatable {
    public var metric, modelID, providerID: String
    public var timeUnixMs: Int64
    public var value: Double

    public init(metric: String, modelID: String, providerID: String, timeUnixMs: Int64, value: Double) {
        self.metric = metric; self.modelID = modelID; self.providerID = providerID; self.timeUnixMs = timeUnixMs; self.value = value
    }

    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        metric = try fields.requiredString("metric")
        guard !metric.isEmpty else { throw PayloadError("metric: must not be empty") }
        modelID = try fields.string("model_id")
        providerID = try fields.string("provider_id")
        timeUnixMs = Int64(try fields.int("time_unix_ms", default: 0))
        value = try fields.finite("value")
    }

    public var json: JSONValue {
        .object(["metric": .string(metric), "model_id": .string(modelID), "provider_id": .string(providerID),
                 "time_unix_ms": .number(Double(timeUnixMs)), "value": .number(value)])
    }
}

/// An API key's record; the key itself is never stored, only its SHA-256.
public struct APIKeyRecord: Sendable, Equatable {
    public var id, name, keyHash, keyPrefix: String
    public var scopes: [String]
    public var enabled: Bool
    public var expiresUnixMs: Int64
    public var monthlyBudgetUSD, rateLimitRPS: Double
    public var createdUnixMs, rotatedUnixMs: Int64

    public init(id: String, name: String, keyHash: String, keyPrefix: String, scopes: [String], enabled: Bool, expiresUnixMs: Int64,
                monthlyBudgetUSD: Double, rateLimitRPS: Double, createdUnixMs: Int64, rotatedUnixMs: Int64) {
        self.id = id; self.name = name; self.keyHash = keyHash; self.keyPrefix = keyPrefix; self.scopes = scopes; self.enabled = enabled
        self.expiresUnixMs = expiresUnixMs; self.monthlyBudgetUSD = monthlyBudgetUSD; self.rateLimitRPS = rateLimitRPS
        self.createdUnixMs = createdUnixMs; self.rotatedUnixMs = rotatedUnixMs
    }

    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        id = try fields.requiredString("id")
        name = try fields.string("name")
        keyHash = try fields.requiredString("key_hash")
        keyPrefix = try fields.string("key_prefix")
        scopes = fields["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        enabled = try fields.bool("enabled", default: true)
        expiresUnixMs = Int64(try fields.int("expires_unix_ms", default: 0))
        monthlyBudgetUSD = try fields.finite("monthly_budget_usd")
        rateLimitRPS = try fields.finite("rate_limit_rps")
        createdUnixMs = Int64(try fields.int("created_unix_ms", default: 0))
        rotatedUnixMs = Int64(try fields.int("rotated_unix_ms", default: 0))
    }

    /// The record as the operations answer it; `key_hash` only where the operation says so.
    public func json(includingHash: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "name": .string(name), "key_prefix": .string(keyPrefix),
            "scopes": .array(scopes.map(JSONValue.string)), "enabled": .bool(enabled),
            "expires_unix_ms": .number(Double(expiresUnixMs)), "monthly_budget_usd": .number(monthlyBudgetUSD),
            "rate_limit_rps": .number(rateLimitRPS), "created_unix_ms": .number(Double(createdUnixMs)),
            "rotated_unix_ms": .number(Double(rotatedUnixMs)),
        ]
        if includingHash { object["key_hash"] = .string(keyHash) }
        return .object(object)
    }
}

/// One admin audit entry.
public struct AuditRow: Sendable, Equatable {
    public var timeUnixMs: Int64
    public var requestID, action, resource, detail: String

    public init(timeUnixMs: Int64, requestID: String, action: String, resource: String, detail: String) {
        self.timeUnixMs = timeUnixMs; self.requestID = requestID; self.action = action; self.resource = resource; self.detail = detail
    }

    public init(json: JSONValue) throws(PayloadError) {
        let fields = try PayloadFields(json, path: "")
        action = try fields.requiredString("action")
        timeUnixMs = Int64(try fields.int("time_unix_ms", default: 0))
        requestID = try fields.string("request_id")
        resource = try fields.string("resource")
        detail = try fields.string("detail")
    }

    public var json: JSONValue {
        .object(["time_unix_ms": .number(Double(timeUnixMs)), "request_id": .string(requestID), "action": .string(action),
                 "resource": .string(resource), "detail": .string(detail)])
    }
}

extension PayloadFields {
    /// A finite number member (default 0): NaN and infinities never reach a store.
    func finite(_ key: String) throws(PayloadError) -> Double {
        let value = try double(key, default: 0)
        guard value.isFinite else { throw PayloadError("\(key): expected a finite number") }
        return value
    }
}
