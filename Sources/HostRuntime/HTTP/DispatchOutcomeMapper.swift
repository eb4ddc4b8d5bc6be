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
        return try served(outcome)
    }

    static func dispatchPlan(_ input: OrchestrationInput, gateway: Gateway) async throws(APIError) -> Served {
        let bytes = JSONCoding.encode(input)
        // An orchestration is several model calls; each has the default deadline.
        let deadline = ContinuousClock.now + .milliseconds(gateway.registry.routing.maxLatencyMs * 8) + deadlineGrace
        let outcome = await gateway.plugins.chain.plan(bytes, deadline: deadline)
        return try served(outcome)
    }

    /// A failed ChatOutput as the client's error: 503 when no model was eligible, else 502,
    /// with the error class as the code.
    static func upstreamError(_ output: ChatOutput) -> APIError {
        let errorClass = output.errorClass ?? .fatal
        let status: HTTPResponse.Status = errorClass == .noEligibleModel ? .serviceUnavailable : .badGateway
        return APIError(status, output.error.isEmpty ? "upstream failed" : output.error, type: "upstream_error", code: errorClass.rawValue)
    }

    static func served(_ outcome: DispatchChain.Outcome) throws(APIError) -> Served {
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
            throw upstreamError(output)
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
