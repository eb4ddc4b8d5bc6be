import Foundation
import HTTPTypes
import Hummingbird
import TokenHubCore
import W3CTraceContext

extension GatewayRoutes {
    /// `POST /v1/chat`: TokenHub's envelope through the dispatch chain.
    func chat(_ request: Request, grant: APIKeyService.Grant?) async throws -> Response {
        let body = try await JSONBody.read(request, server: gateway.config.server)
        var (chatRequest, policy) = try RequestReader.chatEnvelope(body, defaults: gateway.registry.routing)
        try Directives.apply(to: &chatRequest, policy: &policy)
        let input = ChatInput(requestID: Gateway.newRequestID(), apiKeyID: grant?.id ?? "", request: chatRequest, policy: policy,
                              idempotencyKey: try Self.idempotencyKey(request), traceparent: Self.traceparent(request))
        try await holdBudget(grant, requestID: input.requestID, request: chatRequest, policy: policy, steps: 1)
        if chatRequest.stream { return try await StreamRelay(gateway: gateway).relay(input) }
        let served = try await DispatchOutcomeMapper.dispatchChat(input, gateway: gateway)
        var fields: [String: JSONValue] = [
            "request_id": .string(input.requestID),
            "negotiated_model": .string(served.output.decision.modelID),
            "estimated_cost_usd": .number(served.output.decision.estimatedCostUSD),
            "routing_reason": .string(served.output.decision.reason),
            "dispatcher": .string(served.dispatcher),
            "response": served.output.response,
        ]
        if let schema = chatRequest.outputSchema {
            let content = served.output.response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
            let violation = await OutputSchemaValidator.violationOffLoop(of: schema, in: content)
            fields["output_schema_valid"] = .bool(violation == nil)
            if let violation { fields["output_schema_error"] = .string(violation) }
        }
        return Self.withRoutingHeaders(JSONResponse.make(JSONValue.object(fields)), input.requestID, served.output.decision)
    }

    /// `POST /v1/chat/completions`: OpenAI's API. `model` is a hint ("" or "*" lets the
    /// router choose); streaming goes direct to the engine.
    func chatCompletions(_ request: Request, grant: APIKeyService.Grant?) async throws -> Response {
        let body = try await JSONBody.read(request, server: gateway.config.server)
        var chatRequest = try RequestReader.openAIRequest(body)
        var policy = gateway.registry.routing
        try Directives.apply(to: &chatRequest, policy: &policy)
        let input = ChatInput(requestID: Gateway.newRequestID(), apiKeyID: grant?.id ?? "", request: chatRequest, policy: policy,
                              idempotencyKey: try Self.idempotencyKey(request), traceparent: Self.traceparent(request))
        try await holdBudget(grant, requestID: input.requestID, request: chatRequest, policy: policy, steps: 1)
        if chatRequest.stream { return try await StreamRelay(gateway: gateway).relay(input) }
        let served = try await DispatchOutcomeMapper.dispatchChat(input, gateway: gateway)
        var completion = served.output.response.objectValue ?? [:]
        completion["id"] = completion["id"] ?? .string("chatcmpl-\(input.requestID)")
        completion["object"] = .string("chat.completion")
        completion["created"] = completion["created"] ?? .number(Double(Int(Date().timeIntervalSince1970)))
        completion["model"] = .string(served.output.decision.modelID)
        return Self.withRoutingHeaders(JSONResponse.make(JSONValue.object(completion)), input.requestID, served.output.decision)
    }

    /// `POST /v1/plan`: an orchestration through the dispatch chain.
    func plan(_ request: Request, grant: APIKeyService.Grant?) async throws -> Response {
        let body = try await JSONBody.read(request, server: gateway.config.server)
        let (chatRequest, directive) = try RequestReader.planEnvelope(body)
        let input = OrchestrationInput(requestID: Gateway.newRequestID(), apiKeyID: grant?.id ?? "", request: chatRequest, directive: directive,
                                       idempotencyKey: try Self.idempotencyKey(request), traceparent: Self.traceparent(request))
        try await holdBudget(grant, requestID: input.requestID, request: chatRequest, policy: gateway.registry.routing,
                             steps: DispatchOutcomeMapper.orchestrationSteps)
        let served = try await DispatchOutcomeMapper.dispatchPlan(input, gateway: gateway)
        var fields = served.output.response.objectValue ?? [:]
        fields["request_id"] = .string(input.requestID)
        fields["mode"] = .string(directive.mode)
        fields["negotiated_model"] = .string(served.output.decision.modelID)
        fields["estimated_cost_usd"] = .number(served.output.decision.estimatedCostUSD)
        fields["routing_reason"] = .string(served.output.decision.reason)
        fields["dispatcher"] = .string(served.dispatcher)
        return Self.withRoutingHeaders(JSONResponse.make(JSONValue.object(fields)), input.requestID, served.output.decision)
    }

    /// Holds the request's estimated cost on its key's monthly budget (see `APIKeyService.hold`):
    /// the costliest model the router could pick for it, times `steps` for an orchestration,
    /// held until its log row settles it or its deadline has long passed.
    func holdBudget(_ grant: APIKeyService.Grant?, requestID: String, request: ChatRequest, policy: Policy, steps: Int) async throws(APIError) {
        guard let grant, grant.monthlyBudgetUSD > 0, let keys else { return }
        let estimate = (gateway.engine.plan(request, policy: policy).candidates.map(\.estimatedCostUSD).max() ?? 0) * Double(steps)
        let holdFor = .milliseconds(policy.maxLatencyMs) * steps + DispatchOutcomeMapper.deliveryGrace + .seconds(60)
        do {
            try await keys.hold(grant, requestID: requestID, estimateUSD: estimate, holdFor: holdFor)
        } catch where error.code == "budget_exceeded" {
            gateway.services.events.publish(.budgetExceeded, requestID: requestID, ["api_key_id": .string(grant.id),
                                                                                   "budget_usd": .number(grant.monthlyBudgetUSD)])
            throw error
        }
    }

    /// The `Idempotency-Key` header: up to 200 visible ASCII characters, "" when absent.
    static func idempotencyKey(_ request: Request) throws(APIError) -> String {
        guard let name = HTTPField.Name("Idempotency-Key"), let key = request.headers[name] else { return "" }
        guard !key.isEmpty, key.utf8.count <= 200, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APIError(.badRequest, "Idempotency-Key: expected 1 to 200 visible ASCII characters", code: "invalid_idempotency_key")
        }
        return key
    }

    /// The client's W3C `traceparent`, normalised, or "" when absent or malformed (the
    /// specification says to ignore an invalid one and start a new trace, not to refuse).
    static func traceparent(_ request: Request) -> String {
        guard let name = HTTPField.Name("traceparent"), let value = request.headers[name], value.utf8.count <= 128,
              let context = try? TraceContext(traceParentHeaderValue: value) else { return "" }
        return context.traceParentHeaderValue
    }

    static func withRoutingHeaders(_ response: Response, _ requestID: String, _ decision: Decision) -> Response {
        var response = response
        response.headers[requestIDHeader] = requestID
        response.headers[modelHeader] = decision.modelID
        response.headers[reasonHeader] = decision.reason
        return response
    }
}
