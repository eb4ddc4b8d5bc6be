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

    /// How long past the request's deadline the host still waits for a dispatcher's answer:
    /// the time to deliver the timeout answer the dispatcher owes at the deadline (a workflow's
    /// close event, a remote call's reply). Not a second deadline: nobody works towards it.
    static let deliveryGrace: Duration = .seconds(5)

    /// An orchestration is several model calls; its deadline allows this many of the default.
    static let orchestrationSteps = 8

    static func dispatchChat(_ input: ChatInput, gateway: Gateway) async throws(APIError) -> Served {
        var input = input
        input.deadlineUnixMs = RequestDeadline.unixMs(after: .milliseconds(input.policy.maxLatencyMs))
        let generation = gateway.currentGeneration
        generation.requests.enter()
        defer { generation.requests.leave() }
        let bytes = PassThrough.encode(input)
        let outcome = await generation.plugins.chain.chat(bytes, deadline: waitUntil(input.deadlineUnixMs))
        PassThrough.forget(input: bytes)
        let output = record(outcome, into: generation, LogResult(requestID: input.requestID, apiKeyID: input.apiKeyID, kind: "chat", mode: input.policy.mode,
                                               output: ChatOutput(), dispatcher: "", budgetUSD: input.policy.maxBudgetUSD, maxLatencyMs: input.policy.maxLatencyMs,
                                               traceparent: input.traceparent),
                            gateway: gateway)
        return try served(outcome, output: output, requestID: input.requestID)
    }

    static func dispatchPlan(_ input: OrchestrationInput, gateway: Gateway) async throws(APIError) -> Served {
        var input = input
        input.deadlineUnixMs = RequestDeadline.unixMs(after: .milliseconds(gateway.registry.routing.maxLatencyMs) * orchestrationSteps)
        let generation = gateway.currentGeneration
        generation.requests.enter()
        defer { generation.requests.leave() }
        let outcome = await generation.plugins.chain.plan(JSONCoding.encode(input), deadline: waitUntil(input.deadlineUnixMs))
        let output = record(outcome, into: generation, LogResult(requestID: input.requestID, apiKeyID: input.apiKeyID, kind: "plan", mode: input.directive.mode,
                                               output: ChatOutput(), dispatcher: "", traceparent: input.traceparent),
                            gateway: gateway)
        return try served(outcome, output: output, requestID: input.requestID)
    }

    private static func waitUntil(_ deadlineUnixMs: Int64) -> ContinuousClock.Instant? {
        RequestDeadline.instant(unixMs: deadlineUnixMs).map { $0 + deliveryGrace }
    }

    /// The host records every dispatched request's outcome itself, tagged with the serving
    /// dispatcher's instance name: a ChatOutput when the dispatcher answered with one, else a
    /// failure naming what happened (no dispatcher, a timeout, a dispatcher's own error). The
    /// recorder keeps one record per request id, so a plugin that also records (with
    /// `host_log_result`) does not count twice. Returns the dispatcher's ChatOutput, if any.
    private static func record(_ outcome: DispatchChain.Outcome, into generation: Generation, _ template: LogResult,
                               gateway: Gateway) -> ChatOutput? {
        let reply = outcome.reply
        let dispatcher = outcome.servedBy ?? ""
        var result = template
        result.dispatcher = dispatcher
        let output: ChatOutput?
        switch reply.status {
        case .ok, .upstream:
            output = PassThrough.decodeOutput(reply.result)
            result.output = output?.forLog ?? ChatOutput(error: reply.status == .ok ? "dispatcher \(dispatcher) returned a result that is not a ChatOutput"
                                                                              : reply.message, errorClass: .fatal)
        case .timeout:
            output = nil
            result.output = ChatOutput(error: "dispatcher \(dispatcher) did not answer before the deadline", errorClass: .transient)
        case .unavailable:
            output = nil
            result.output = ChatOutput(error: reply.message, errorClass: .transient)
        default:
            output = nil
            result.output = ChatOutput(error: "dispatcher \(dispatcher): \(reply.status): \(reply.message)", errorClass: .fatal)
        }
        _ = gateway.services.results.record(result, into: generation.plugins.store)
        return output
    }

    /// A failed ChatOutput as the client's error: 503 when no model was eligible, else 502,
    /// with the error class as the code. The upstream's own words (its error body, its
    /// host) stay in the gateway log under the request id: a client learns the class, the
    /// provider and model tried and the id, never what the upstream said.
    static func upstreamError(_ output: ChatOutput, requestID: String) -> APIError {
        let errorClass = output.errorClass ?? .fatal
        let status: HTTPResponse.Status = switch errorClass {
        case .noEligibleModel: .serviceUnavailable
        case .unknownModel: .notFound
        default: .badGateway
        }
        let message: String
        switch errorClass {
        case .unknownModel:
            // OpenAI's own code for a model it does not serve, so SDKs map it the same way.
            var error = APIError(.notFound, output.error, type: "invalid_request_error", code: "model_not_found")
            error.headers[GatewayRoutes.requestIDHeader] = requestID
            return error
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

    static func served(_ outcome: DispatchChain.Outcome, output: ChatOutput?, requestID: String) throws(APIError) -> Served {
        let reply = outcome.reply
        let dispatcher = outcome.servedBy ?? ""
        switch reply.status {
        case .ok:
            guard let output else {
                throw APIError(.badGateway, "dispatcher \(dispatcher) returned a result that is not a ChatOutput", type: "server_error", code: "bad_dispatch_result")
            }
            return Served(output: output, dispatcher: dispatcher)
        case .upstream:
            let output = output ?? ChatOutput(error: reply.message, errorClass: .fatal)
            throw upstreamError(output, requestID: requestID)
        case .unavailable:
            throw APIError(.serviceUnavailable, reply.message, type: "dispatch_unavailable", code: "unavailable")
        case .invalidArgument:
            throw APIError(.badRequest, reply.message, code: "invalid_argument")
        case .timeout:
            throw APIError(.gatewayTimeout, reply.message, type: "server_error", code: "timeout")
        case .notSupported:
            throw APIError(.notImplemented, reply.message, type: "server_error", code: "not_supported")
        case .cancelled, .internal, .notFound:
            throw APIError(.internalServerError, "dispatcher \(dispatcher): \(reply.message)", type: "server_error", code: reply.status == .cancelled ? "cancelled" : "internal")
        }
    }
}
