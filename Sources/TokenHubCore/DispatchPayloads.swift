/// The input of a chat dispatch (`on_chat`, `ChatWorkflow`, `host_route_and_send`).
public struct ChatInput: Sendable, Hashable, Codable {
    /// Unique per request; workflow IDs and log rows are keyed by it.
    public var requestID: String
    /// The API key that authorised the request, "" when none was used.
    public var apiKeyID: String
    /// What to send.
    public var request: ChatRequest
    /// How to route it.
    public var policy: Policy

    /// Creates an input.
    public init(requestID: String, apiKeyID: String = "", request: ChatRequest, policy: Policy = Policy()) {
        self.requestID = requestID
        self.apiKeyID = apiKeyID
        self.request = request
        self.policy = policy
    }

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case apiKeyID = "api_key_id"
        case request, policy
    }

    /// Decodes an input; `api_key_id` and `policy` may be absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requestID = try c.decode(String.self, forKey: .requestID)
        apiKeyID = try c.decodeIfPresent(String.self, forKey: .apiKeyID) ?? ""
        request = try c.decode(ChatRequest.self, forKey: .request)
        policy = try c.decodeIfPresent(Policy.self, forKey: .policy) ?? Policy()
    }
}

/// How an orchestration combines several model calls.
public struct OrchestrationDirective: Sendable, Hashable, Codable {
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

    enum CodingKeys: String, CodingKey {
        case mode, iterations
        case primaryModelID = "primary_model_id"
        case reviewModelID = "review_model_id"
        case primaryMinWeight = "primary_min_weight"
        case reviewMinWeight = "review_min_weight"
    }

    /// Decodes a directive; only `mode` is required.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decode(String.self, forKey: .mode)
        iterations = try c.decodeIfPresent(Int.self, forKey: .iterations) ?? 0
        primaryModelID = try c.decodeIfPresent(String.self, forKey: .primaryModelID) ?? ""
        reviewModelID = try c.decodeIfPresent(String.self, forKey: .reviewModelID) ?? ""
        primaryMinWeight = try c.decodeIfPresent(Int.self, forKey: .primaryMinWeight) ?? 0
        reviewMinWeight = try c.decodeIfPresent(Int.self, forKey: .reviewMinWeight) ?? 0
    }
}

/// The input of an orchestration dispatch (`on_plan`, `OrchestrationWorkflow`).
public struct OrchestrationInput: Sendable, Hashable, Codable {
    /// Unique per request.
    public var requestID: String
    /// The API key that authorised the request, "" when none was used.
    public var apiKeyID: String
    /// The task to plan, vote on or refine.
    public var request: ChatRequest
    /// How to orchestrate it.
    public var directive: OrchestrationDirective

    /// Creates an input.
    public init(requestID: String, apiKeyID: String = "", request: ChatRequest, directive: OrchestrationDirective) {
        self.requestID = requestID
        self.apiKeyID = apiKeyID
        self.request = request
        self.directive = directive
    }

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case apiKeyID = "api_key_id"
        case request, directive
    }

    /// Decodes an input; `api_key_id` may be absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requestID = try c.decode(String.self, forKey: .requestID)
        apiKeyID = try c.decodeIfPresent(String.self, forKey: .apiKeyID) ?? ""
        request = try c.decode(ChatRequest.self, forKey: .request)
        directive = try c.decode(OrchestrationDirective.self, forKey: .directive)
    }
}
