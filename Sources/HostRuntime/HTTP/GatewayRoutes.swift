import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PluginAPI
import TokenHubCore

/// The client API's routes over a gateway.
public struct GatewayRoutes: Sendable {
    let gateway: Gateway

    /// API keys, checked against the running generation's store (a reload may switch it).
    var keys: APIKeyService? { gateway.plugins.store.map { APIKeyService(store: $0, logger: gateway.logger, cache: gateway.keyCache) } }

    /// Creates the routes.
    public init(gateway: Gateway) {
        self.gateway = gateway
    }

    /// Adds every route to `router`.
    public func register(on router: Router<GatewayRequestContext>) {
        router.post("/v1/chat") { request, context in
            await self.client(request, context, route: "/v1/chat", scope: "chat") { try await self.chat($0, grant: $1) }
        }
        router.post("/v1/chat/completions") { request, context in
            await self.client(request, context, route: "/v1/chat/completions", scope: "chat") { try await self.chatCompletions($0, grant: $1) }
        }
        router.post("/v1/plan") { request, context in
            await self.client(request, context, route: "/v1/plan", scope: "plan") { try await self.plan($0, grant: $1) }
        }
        router.get("/v1/models") { request, context in
            await self.client(request, context, route: "/v1/models", scope: nil) { _, _ in self.models() }
        }
        router.get("/healthz") { _, _ in self.health() }
        router.get("/metrics") { _, _ in await self.metrics() }
        AdminRoutes(gateway: gateway).register(on: router)
        ConsoleRoutes().register(on: router)
    }

    /// Every client route: the IP rate limit, the API key (when required) with its scope
    /// (nil: any valid key), budget and own rate limit, then the handler with the key's id.
    /// Thrown `APIError`s become their JSON answers and anything else a 500, so every request
    /// gets an answer. `route` is the registered path: metrics are labelled by it, never by
    /// the path a client sent (which would let clients create series without bound).
    private func client(
        _ request: Request, _ context: GatewayRequestContext, route: String, scope: String?,
        _ handler: (Request, APIKeyService.Grant?) async throws -> Response
    ) async -> Response {
        let response = await answer(request, context, route: route, scope: scope, handler)
        let telemetry = gateway.services.telemetry
        if !telemetry.isEmpty {
            // Every answer, including the ones no dispatcher saw (400, 401, 429…).
            let labels = JSONValue.object(["route": .string(route), "status": .string(String(response.status.code))])
            telemetry.observe(metric: .counter, name: "tokenhub_http_responses_total",
                              labelsJSON: String(decoding: labels.serialized, as: UTF8.self), value: 1)
        }
        return response
    }

    private func answer(
        _ request: Request, _ context: GatewayRequestContext, route: String, scope: String?,
        _ handler: (Request, APIKeyService.Grant?) async throws -> Response
    ) async -> Response {
        let rateLimiter = gateway.rateLimiter
        let client = rateLimiter.clientIP(socketIP: context.remoteAddress?.ipAddress,
                                          forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!])
        if let wait = rateLimiter.check(client: client) {
            return Self.rateLimited(client, wait: wait).response
        }
        do {
            var grant: APIKeyService.Grant?
            if gateway.config.server.requireAPIKey, let keys {
                let presented = APIKeyService.presentedKey(authorization: request.headers[.authorization],
                                                           apiKeyHeader: request.headers[HTTPField.Name("x-api-key")!])
                let granted = try await keys.authenticate(presented, scope: scope)
                grant = granted
                if let wait = rateLimiter.check(key: granted.id, rate: granted.rateLimitRPS) {
                    throw Self.rateLimited("API key \(granted.id)", wait: wait)
                }
            }
            return try await handler(request, grant)
        } catch let error as APIError {
            return error.response
        } catch {
            // Details stay in the log; the client learns only that it was not its fault.
            gateway.logger.error("request failed", metadata: ["route": "\(route)", "error": "\(error)"])
            return APIError(.internalServerError, "internal error; the gateway log has the details", type: "server_error").response
        }
    }

    static func rateLimited(_ who: String, wait: Duration) -> APIError {
        let seconds = max(1, Int(saturating: (wait.totalMilliseconds / 1000).rounded(.up)))
        var error = APIError(.tooManyRequests, "rate limit exceeded for \(who); retry after \(seconds) s", type: "rate_limit_error", code: "rate_limited")
        error.headers[.retryAfter] = String(seconds)
        return error
    }

    /// `GET /metrics`: every telemetry plugin's metrics in Prometheus text format; 404 naming
    /// the fix when none is configured.
    func metrics() async -> Response {
        guard let text = await gateway.services.telemetry.scrape() else {
            return APIError(.notFound, "no telemetry plugin is configured; add `telemetry: [PrometheusTelemetry]` to config.yaml",
                            code: "no_telemetry").response
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
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
        let reports = gateway.plugins.reports
        let running = reports.filter(\.isRunning)
        let usableModels = gateway.engine.usableModels.count
        let healthy = !running.isEmpty && usableModels > 0
        let plugins: [JSONValue] = reports.map { report in
            .object([
                "name": .string(report.name), "version": .string(report.version),
                "abi": .string(report.abiVersion), "kinds": .array(report.kinds.map { .string($0.rawValue) }),
                "sha256": .string(report.sha256),
                "status": .string(report.status),
            ])
        }
        return JSONResponse.make(status: healthy ? .ok : .serviceUnavailable, JSONValue.object([
            "status": .string(healthy ? "ok" : "unavailable"),
            "generation": .number(Double(gateway.generationNumber)),
            "plugins": .array(plugins),
            "providers": .number(Double(gateway.engine.providers.count)),
            "models": .number(Double(usableModels)),
        ]))
    }

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!
    static let modelHeader = HTTPField.Name("X-TokenHub-Model")!
    static let reasonHeader = HTTPField.Name("X-TokenHub-Routing-Reason")!
}
