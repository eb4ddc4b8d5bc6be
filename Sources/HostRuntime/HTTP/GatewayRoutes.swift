import Foundation
import HTTPTypes
import Hummingbird
import TokenHubCore

/// The client API's routes over a gateway.
public struct GatewayRoutes: Sendable {
    let gateway: Gateway

    /// Creates the routes.
    public init(gateway: Gateway) {
        self.gateway = gateway
    }

    /// Adds every route to `router`.
    public func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/chat") { request, context in await self.respond { try await self.chat(request, context) } }
        router.get("/healthz") { _, _ in self.health() }
    }

    /// Turns thrown `APIError`s into their JSON answers.
    private func respond(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError(.internalServerError, "\(error)", type: "server_error").response
        }
    }

    /// `POST /v1/chat`: TokenHub's envelope through the dispatch chain.
    func chat(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request, limit: gateway.config.server.bodyLimitBytes)
        let (chatRequest, policy) = try RequestReader.chatEnvelope(body, defaults: gateway.config.routing)
        let requestID = Gateway.newRequestID()
        let input = ChatInput(requestID: requestID, request: chatRequest, policy: policy)
        let output = try await DispatchOutcomeMapper.dispatchChat(input, gateway: gateway)
        var response = JSONResponse.make(JSONValue.object([
            "request_id": .string(requestID),
            "negotiated_model": .string(output.output.decision.modelID),
            "estimated_cost_usd": .number(output.output.decision.estimatedCostUSD),
            "routing_reason": .string(output.output.decision.reason),
            "dispatcher": .string(output.dispatcher),
            "response": output.output.response,
        ]))
        response.headers[HTTPField.Name("X-Request-ID")!] = requestID
        return response
    }

    /// `GET /healthz`: 200 with the plugin and model counts, 503 when nothing can serve.
    func health() -> Response {
        let running = gateway.plugins.reports.filter(\.isRunning)
        let usableModels = gateway.engine.usableModels.count
        let healthy = !running.isEmpty && usableModels > 0
        let plugins: [JSONValue] = gateway.plugins.reports.map { report in
            .object([
                "name": .string(report.name), "path": .string(report.path), "version": .string(report.version),
                "abi": .string(report.abiVersion), "kinds": .array(report.kinds.map { .string($0.rawValue) }),
                "status": .string(report.status),
            ])
        }
        return JSONResponse.make(status: healthy ? .ok : .serviceUnavailable, JSONValue.object([
            "status": .string(healthy ? "ok" : "unavailable"),
            "plugins": .array(plugins),
            "providers": .number(Double(gateway.engine.providers.count)),
            "models": .number(Double(usableModels)),
        ]))
    }
}
