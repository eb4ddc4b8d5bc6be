import TokenHubCore

/// Reads TokenHub's request shapes from parsed JSON with errors that name the field.
/// Shared by `/v1/chat`, `/v1/plan` and the OpenAI-compatible endpoint.
enum RequestReader {
    static let roles: Set<String> = ["system", "user", "assistant", "tool", "developer", "function"]

    /// The `/v1/chat` envelope: `{request:{...}, policy:{...}}`.
    static func chatEnvelope(_ body: JSONValue, defaults: Policy) throws(APIError) -> (ChatRequest, Policy) {
        let top = try object(body, at: "body", allowed: ["request", "policy"])
        guard let requestValue = top["request"] else { throw .invalidField("request", "required, expected an object") }
        let request = try chatRequest(requestValue, at: "request")
        let policy = try policy(top["policy"], at: "policy", defaults: defaults)
        return (request, policy)
    }

    /// `{messages, model_hint, model_strict, estimated_input_tokens, parameters, stream, output_schema}`.
    static func chatRequest(_ value: JSONValue, at path: String) throws(APIError) -> ChatRequest {
        let members = try object(value, at: path, allowed: [
            "messages", "model_hint", "model_strict", "estimated_input_tokens", "parameters", "stream", "output_schema",
        ])
        let messages = try messageList(members["messages"], at: "\(path).messages")
        var request = ChatRequest(messages: messages)
        request.modelHint = try string(members["model_hint"], at: "\(path).model_hint") ?? ""
        request.modelStrict = try bool(members["model_strict"], at: "\(path).model_strict") ?? false
        request.estimatedInputTokens = try integer(members["estimated_input_tokens"], at: "\(path).estimated_input_tokens", in: 0...100_000_000) ?? 0
        if let parameters = members["parameters"], parameters != .null {
            guard case .object(let dictionary) = parameters else {
                throw .invalidField("\(path).parameters", "expected an object, got \(parameters.typeName)")
            }
            request.parameters = dictionary
        }
        request.stream = try bool(members["stream"], at: "\(path).stream") ?? false
        if let schema = members["output_schema"], schema != .null {
            guard case .object = schema else { throw .invalidField("\(path).output_schema", "expected an object (a JSON schema), got \(schema.typeName)") }
            if let problem = OutputSchemaValidator.checkSchema(schema) { throw .invalidField("\(path).output_schema", problem) }
            request.outputSchema = schema
        }
        return request
    }

    /// `{mode, max_budget_usd, max_latency_ms, min_weight}`, each optional.
    static func policy(_ value: JSONValue?, at path: String, defaults: Policy) throws(APIError) -> Policy {
        guard let value, value != .null else { return defaults }
        let members = try object(value, at: path, allowed: ["mode", "max_budget_usd", "max_latency_ms", "min_weight"])
        var policy = defaults
        if let mode = try string(members["mode"], at: "\(path).mode") {
            let modes = ["cheap", "normal", "high_confidence", "planning", "adversarial"]
            guard modes.contains(mode) else {
                throw .invalidField("\(path).mode", "expected one of \(modes.joined(separator: ", ")), got \"\(mode)\"")
            }
            policy.mode = mode
        }
        if let budget = try number(members["max_budget_usd"], at: "\(path).max_budget_usd", in: 0...10_000) { policy.maxBudgetUSD = budget }
        if let latency = try integer(members["max_latency_ms"], at: "\(path).max_latency_ms", in: 1...3_600_000) { policy.maxLatencyMs = latency }
        if let weight = try integer(members["min_weight"], at: "\(path).min_weight", in: 0...10) { policy.minWeight = weight }
        return policy
    }

    static func messageList(_ value: JSONValue?, at path: String) throws(APIError) -> [JSONValue] {
        guard let value else { throw .invalidField(path, "required, expected a non-empty array of messages") }
        guard case .array(let messages) = value else { throw .invalidField(path, "expected an array, got \(value.typeName)") }
        guard !messages.isEmpty else { throw .invalidField(path, "expected a non-empty array of messages") }
        for (index, message) in messages.enumerated() {
            let at = "\(path)[\(index)]"
            guard case .object(let members) = message else { throw .invalidField(at, "expected an object, got \(message.typeName)") }
            guard let role = members["role"]?.stringValue else { throw .invalidField("\(at).role", "required, expected a string") }
            guard roles.contains(role) else {
                throw .invalidField("\(at).role", "expected one of \(roles.sorted().joined(separator: ", ")), got \"\(role)\"")
            }
            switch members["content"] {
            case .string?, .array?, .null?: break
            case nil where role == "assistant": break
            case nil: throw .invalidField("\(at).content", "required, expected a string or an array of content parts")
            case let other?: throw .invalidField("\(at).content", "expected a string or an array, got \(other.typeName)")
            }
        }
        return messages
    }

    static func object(_ value: JSONValue, at path: String, allowed: Set<String>) throws(APIError) -> [String: JSONValue] {
        guard case .object(let members) = value else { throw .invalidField(path, "expected an object, got \(value.typeName)") }
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            let field = path == "body" ? unknown : "\(path).\(unknown)"
            throw .invalidField(field, "unknown field (expected one of \(allowed.sorted().joined(separator: ", ")))")
        }
        return members
    }

    static func string(_ value: JSONValue?, at path: String) throws(APIError) -> String? {
        guard let value, value != .null else { return nil }
        guard case .string(let text) = value else { throw .invalidField(path, "expected a string, got \(value.typeName)") }
        return text
    }

    static func bool(_ value: JSONValue?, at path: String) throws(APIError) -> Bool? {
        guard let value, value != .null else { return nil }
        guard case .bool(let flag) = value else { throw .invalidField(path, "expected true or false, got \(value.typeName)") }
        return flag
    }

    static func number(_ value: JSONValue?, at path: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let value, value != .null else { return nil }
        guard case .number(let number) = value else { throw .invalidField(path, "expected a number, got \(value.typeName)") }
        guard range.contains(number) else {
            throw .invalidField(path, "expected a number from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        return number
    }

    static func integer(_ value: JSONValue?, at path: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let value, value != .null else { return nil }
        guard case .number(let number) = value, number.rounded() == number else {
            throw .invalidField(path, "expected an integer, got \(value.typeName == "number" ? "a fraction" : value.typeName)")
        }
        guard number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw .invalidField(path, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        // Double(range.upperBound) may round up past it (Int.max does): clamp, never trap.
        return Int(saturating: number, in: range)
    }
}

extension RequestReader {
    /// Parameters the OpenAI endpoint checks before passing them on, with their expected shape.
    static let checkedParameters: [String: @Sendable (JSONValue) -> Bool] = [
        "temperature": { ($0.numberValue.map { (0...2).contains($0) }) ?? false },
        "top_p": { ($0.numberValue.map { (0...1).contains($0) }) ?? false },
        "max_tokens": { ($0.numberValue.map { $0 >= 1 && $0 <= 10_000_000 && $0.rounded() == $0 }) ?? false },
        "max_completion_tokens": { ($0.numberValue.map { $0 >= 1 && $0 <= 10_000_000 && $0.rounded() == $0 }) ?? false },
        "n": { ($0.numberValue.map { $0 >= 1 && $0 <= 128 && $0.rounded() == $0 }) ?? false },
        "tools": { $0.arrayValue?.allSatisfy { $0.objectValue != nil } ?? false },
        "tool_choice": { $0.stringValue != nil || $0.objectValue != nil },
        "stop": { $0.stringValue != nil || ($0.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false) },
        "user": { $0.stringValue != nil },
        "stream_options": { $0.objectValue != nil },
        "response_format": { $0.objectValue != nil },
    ]

    /// An OpenAI chat-completions body.
    static func openAIRequest(_ body: JSONValue) throws(APIError) -> ChatRequest {
        guard case .object(let members) = body else { throw .invalidField("body", "expected an object, got \(body.typeName)") }
        var request = ChatRequest(messages: try messageList(members["messages"], at: "messages"))
        let model = try string(members["model"], at: "model") ?? ""
        request.modelHint = model == "*" ? "" : model
        request.stream = try bool(members["stream"], at: "stream") ?? false
        // TokenHub's one extension of the OpenAI body (an SDK sends it with `extra_body`):
        // `model` becomes a demand, never passed to the provider.
        request.modelStrict = try bool(members["model_strict"], at: "model_strict") ?? false
        if request.modelStrict && request.modelHint.isEmpty {
            throw .invalidField("model_strict", "needs a model: \"model\" is empty or \"*\"")
        }
        for (key, value) in members where !["model", "messages", "stream", "model_strict"].contains(key) {
            if value == .null { continue }
            if let check = checkedParameters[key], !check(value) {
                throw .invalidField(key, "invalid value (\(value.typeName)); see the OpenAI chat-completions reference for its type and range")
            }
            request.parameters[key] = value
        }
        return request
    }

    /// The `/v1/plan` envelope: `{request:{...}, orchestration:{mode, iterations, ...}}`.
    static func planEnvelope(_ body: JSONValue) throws(APIError) -> (ChatRequest, OrchestrationDirective) {
        let top = try object(body, at: "body", allowed: ["request", "orchestration"])
        guard let requestValue = top["request"] else { throw .invalidField("request", "required, expected an object") }
        let request = try chatRequest(requestValue, at: "request")
        guard let orchestration = top["orchestration"] else { throw .invalidField("orchestration", "required, expected an object with a mode") }
        let members = try object(orchestration, at: "orchestration", allowed: [
            "mode", "iterations", "primary_model_id", "review_model_id", "primary_min_weight", "review_min_weight",
        ])
        guard let mode = try string(members["mode"], at: "orchestration.mode") else {
            throw .invalidField("orchestration.mode", "required, expected one of planning, adversarial, vote, refine")
        }
        guard ["planning", "adversarial", "vote", "refine"].contains(mode) else {
            throw .invalidField("orchestration.mode", "expected one of planning, adversarial, vote, refine, got \"\(mode)\"")
        }
        var directive = OrchestrationDirective(mode: mode)
        directive.iterations = try integer(members["iterations"], at: "orchestration.iterations", in: 0...10) ?? 0
        directive.primaryModelID = try string(members["primary_model_id"], at: "orchestration.primary_model_id") ?? ""
        directive.reviewModelID = try string(members["review_model_id"], at: "orchestration.review_model_id") ?? ""
        directive.primaryMinWeight = try integer(members["primary_min_weight"], at: "orchestration.primary_min_weight", in: 0...10) ?? 0
        directive.reviewMinWeight = try integer(members["review_min_weight"], at: "orchestration.review_min_weight", in: 0...10) ?? 0
        return (request, directive)
    }
}
