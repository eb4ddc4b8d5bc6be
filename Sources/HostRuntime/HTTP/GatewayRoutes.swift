import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TokenHubCore

/// The client API's routes over a gateway.
public struct GatewayRoutes: Sendable {
    let gateway: Gateway
    let rateLimiter: RateLimiter

    /// Creates the routes.
    public init(gateway: Gateway) {
        self.gateway = gateway
        self.rateLimiter = RateLimiter(gateway.config.server.rateLimit)
    }

    /// Adds every route to `router`.
    public func register(on router: Router<GatewayRequestContext>) {
        router.post("/v1/chat") { request, context in await self.client(request, context) { try await self.chat($0) } }
        router.post("/v1/chat/completions") { request, context in
            await self.client(request, context) { try await self.chatCompletions($0) }
        }
        router.post("/v1/plan") { request, context in await self.client(request, context) { try await self.plan($0) } }
        router.get("/v1/models") { request, context in await self.client(request, context) { _ in self.models() } }
        router.get("/healthz") { _, _ in self.health() }
    }

    /// Every client route: the rate limit first, then the handler; thrown `APIError`s become
    /// their JSON answers and anything else a 500, so every request gets an answer.
    private func client(
        _ request: Request, _ context: GatewayRequestContext, _ handler: (Request) async throws -> Response
    ) async -> Response {
        let client = rateLimiter.clientIP(socketIP: context.remoteAddress?.ipAddress,
                                          forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!])
        if let wait = rateLimiter.check(client: client) {
            let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
            var error = APIError(.tooManyRequests, "rate limit exceeded for \(client); retry after \(seconds) s", type: "rate_limit_error", code: "rate_limited")
            error.headers[.retryAfter] = String(seconds)
            return error.response
        }
        do {
            return try await handler(request)
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError(.internalServerError, "\(error)", type: "server_error").response
        }
    }

    /// `GET /v1/models`: the usable models in OpenAI's list shape.
    func models() -> Response {
        let models: [JSONValue] = gateway.engine.usableModels.map { model in
            .object([
                "id": .string(model.id), "object": .string("model"), "created": .number(0), "owned_by": .string(model.providerID),
            ])
        }
        return JSONResponse.make(JSONValue.object(["object": .string("list"), "data": .array(models)]))
    }

    /// `GET /healthz`: 200 with the plugin, provider and model counts; 503 when nothing can serve.
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

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!
    static let modelHeader = HTTPField.Name("X-TokenHub-Model")!
    static let reasonHeader = HTTPField.Name("X-TokenHub-Routing-Reason")!
}
