import Foundation
import HTTPTypes
import PluginKit
import TokenHubCore

/// Runs a dispatch and maps the chain's outcome to either a ChatOutput or an `APIError`.
enum DispatchOutcomeMapper {
    struct Served {
        var output: ChatOutput
        var dispatcher: String
    }

    /// Grace beyond the policy's deadline before the host stops waiting for a dispatcher.
    static let deadlineGrace: Duration = .seconds(5)

    static func dispatchChat(_ input: ChatInput, gateway: Gateway) async throws(APIError) -> Served {
        let bytes = JSONCoding.encode(input)
        let deadline = ContinuousClock.now + .milliseconds(input.policy.maxLatencyMs) + deadlineGrace
        let outcome = await gateway.plugins.chain.chat(bytes, deadline: deadline)
        recordTimeout(outcome, requestID: input.requestID, apiKeyID: input.apiKeyID, kind: "chat", mode: input.policy.mode, gateway: gateway)
        return try served(outcome, requestID: input.requestID)
    }

    static func dispatchPlan(_ input: OrchestrationInput, gateway: Gateway) async throws(APIError) -> Served {
        let bytes = JSONCoding.encode(input)
        // An orchestration is several model calls; each has the default deadline.
        let deadline = ContinuousClock.now + .milliseconds(gateway.registry.routing.maxLatencyMs * 8) + deadlineGrace
        let outcome = await gateway.plugins.chain.plan(bytes, deadline: deadline)
        recordTimeout(outcome, requestID: input.requestID, apiKeyID: input.apiKeyID, kind: "plan", mode: input.directive.mode, gateway: gateway)
        return try served(outcome, requestID: input.requestID)
    }

    /// A dispatcher that never answered leaves no row of its own: the host logs the request
    /// as failed, so every request has its log row (the store keeps the first per request id).
    private static func recordTimeout(_ outcome: DispatchChain.Outcome, requestID: String, apiKeyID: String, kind: String, mode: String,
                                      gateway: Gateway) {
        guard outcome.reply.status == .timeout else { return }
        let output = ChatOutput(error: "dispatcher \(outcome.servedBy ?? "?") did not answer before the deadline", errorClass: .transient)
        _ = gateway.services.results.record(LogResult(requestID: requestID, apiKeyID: apiKeyID, kind: kind, mode: mode, output: output,
                                                      dispatcher: outcome.servedBy ?? ""))
    }

    /// A failed ChatOutput as the client's error: 503 when no model was eligible, else 502,
    /// with the error class as the code. The upstream's own words (its error body, its
    /// host) stay in the gateway log under the request id: a client learns the class, the
    /// provider and model tried and the id, never what the upstream said.
    static func upstreamError(_ output: ChatOutput, requestID: String) -> APIError {
        let errorClass = output.errorClass ?? .fatal
        let status: HTTPResponse.Status = errorClass == .noEligibleModel ? .serviceUnavailable : .badGateway
        let message: String
        switch errorClass {
        case .noEligibleModel:
            // The router's reasons name only the gateway's own registry; they help the client fix its policy.
            message = output.error.isEmpty ? "no eligible model" : output.error
        default:
            let tried = output.decision.modelID.isEmpty ? "" : " (last tried: \(output.decision.modelID))"
            message = "upstream failed: \(errorClass.rawValue)\(tried); request \(requestID), details in the gateway log"
        }
        var error = APIError(status, message, type: "upstream_error", code: errorClass.rawValue)
        error.headers[GatewayRoutes.requestIDHeader] = requestID
        return error
    }

    static func served(_ outcome: DispatchChain.Outcome, requestID: String) throws(APIError) -> Served {
        let reply = outcome.reply
        let dispatcher = outcome.servedBy ?? ""
        switch reply.status {
        case .ok:
            guard let output = try? JSONCoding.decode(ChatOutput.self, from: reply.result) else {
                throw APIError(.badGateway, "dispatcher \(dispatcher) returned a result that is not a ChatOutput", type: "server_error", code: "bad_dispatch_result")
            }
            return Served(output: output, dispatcher: dispatcher)
        case .upstream:
            let output = (try? JSONCoding.decode(ChatOutput.self, from: reply.result))
                ?? ChatOutput(error: reply.message, errorClass: .fatal)
            throw upstreamError(output, requestID: requestID)
        case .unavailable:
            throw APIError(.serviceUnavailable, reply.message, type: "dispatch_unavailable", code: "unavailable")
        case .invalidArgument:
            throw APIError(.badRequest, reply.message, code: "invalid_argument")
        case .timeout:
            throw APIError(.gatewayTimeout, reply.message, type: "server_error", code: "timeout")
        case .notSupported:
            throw APIError(.notImplemented, reply.message, type: "server_error", code: "not_supported")
        case .cancelled, .internal:
            throw APIError(.internalServerError, "dispatcher \(dispatcher): \(reply.message)", type: "server_error", code: reply.status == .cancelled ? "cancelled" : "internal")
        }
    }
}
