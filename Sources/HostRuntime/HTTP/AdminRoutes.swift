import Foundation
import HTTPTypes
import Hummingbird
import PluginKit
import TokenHubCore

/// The admin API's endpoints, under `/admin/v1`.
public enum AdminEndpoint: CaseIterable, Sendable {
    case createKey, listKeys, patchKey, deleteKey, rotateKey, logs, audit, events, health, stats
    case createProvider, listProviders, patchProvider, deleteProvider
    case createModel, listModels, patchModel, deleteModel
    case getRoutingConfig, putRoutingConfig
    case rewards, rewardSummary, tsdbQuery
    case listWorkflows, describeWorkflow, workflowHistory
    case reloadConfig

    /// The HTTP method.
    public var method: HTTPRequest.Method {
        switch self {
        case .createKey, .rotateKey, .createProvider, .createModel, .reloadConfig: .post
        case .putRoutingConfig: .put
        case .listProviders, .listModels, .getRoutingConfig: .get
        case .patchProvider, .patchModel: .patch
        case .deleteProvider, .deleteModel: .delete
        case .listKeys, .logs, .audit, .events, .health, .stats, .rewards, .rewardSummary, .tsdbQuery, .listWorkflows, .describeWorkflow, .workflowHistory: .get
        case .patchKey: .patch
        case .deleteKey: .delete
        }
    }

    /// The path below `/admin/v1` (`:id` is an id; `**` the rest of the path, an id with `/`).
    public var path: String {
        switch self {
        case .createKey, .listKeys: "apikeys"
        case .patchKey, .deleteKey: "apikeys/:id"
        case .rotateKey: "apikeys/:id/rotate"
        case .logs: "logs"
        case .audit: "audit"
        case .events: "events"
        case .health: "health"
        case .stats: "stats"
        case .createProvider, .listProviders: "providers"
        case .patchProvider, .deleteProvider: "providers/:id"
        case .createModel, .listModels: "models"
        // Model IDs may contain `/` (e.g. meta/llama-3): the rest of the path is the ID.
        case .patchModel, .deleteModel: "models/**"
        case .getRoutingConfig, .putRoutingConfig: "routing-config"
        case .rewards: "rewards"
        case .rewardSummary: "rewards/summary"
        case .tsdbQuery: "tsdb/query"
        case .listWorkflows: "workflows"
        case .describeWorkflow: "workflows/:id"
        case .workflowHistory: "workflows/:id/history"
        case .reloadConfig: "reload"
        }
    }
}

/// `/admin/v1`: API keys, request logs and the audit trail (from the store) and Temporal
/// workflows, behind the admin token. Every change writes an audit row (action, resource,
/// request id; never a secret).
struct AdminRoutes: Sendable {
    let gateway: Gateway
    /// The running generation's store (a reload may switch it); nil without one: the store's
    /// endpoints then answer 503.
    var store: StoreInstance? { gateway.plugins.store }

    static let prefix = "/admin/v1"

    /// Registers every `AdminEndpoint`: the enum is the only way admin routes are added, so
    /// walking `AdminEndpoint.allCases` walks exactly what the router serves.
    func register(on router: Router<GatewayRequestContext>) {
        let group = router.group(RouterPath(Self.prefix))
        for endpoint in AdminEndpoint.allCases {
            group.on(RouterPath(endpoint.path), method: endpoint.method) { request, context in
                await self.guarded(request) { try await self.handle(endpoint, request, context) }
            }
        }
    }

    private func handle(_ endpoint: AdminEndpoint, _ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        switch endpoint {
        case .createKey: return try await createKey(request)
        case .listKeys: return try await listKeys()
        case .patchKey: return try await patchKey(request, id: id)
        case .deleteKey: return try await deleteKey(id: id)
        case .rotateKey: return try await rotateKey(id: id)
        case .logs:
            return try await list("request_log.list", request, filters: Self.logFilters, times: ["since": "since_unix_ms", "until": "until_unix_ms"])
        case .audit: return try await list("audit.list", request)
        case .events: return try EventStream(bus: gateway.services.events).response(request)
        case .health: return providerHealth()
        case .stats: return JSONResponse.make(gateway.services.stats.report())
        case .createProvider:
            let provider = try await gateway.registry.upsertProvider(try await body(request))
            try await audit("provider.upsert", resource: "providers/\(provider.id)")
            return JSONResponse.make(status: .created, RegistryRecord.json(provider, withKey: false))
        case .listProviders:
            return JSONResponse.make(.object(["providers": .array(gateway.engine.providers.map { RegistryRecord.json($0, withKey: false) })]))
        case .patchProvider:
            let patched = try await gateway.registry.patchProvider(id: id, try await body(request))
            try await audit("provider.update", resource: "providers/\(id)")
            var answer = RegistryRecord.json(patched.provider, withKey: false).objectValue ?? [:]
            if patched.keyDropped {
                answer["api_key_dropped"] = .bool(true)
                answer["note"] = .string("the provider's key was dropped because base_url or type changed; send api_key with the patch to set one")
            }
            return JSONResponse.make(.object(answer))
        case .deleteProvider:
            try await gateway.registry.deleteProvider(id: id)
            try await audit("provider.delete", resource: "providers/\(id)")
            return Response(status: .noContent)
        case .createModel:
            let model = try await gateway.registry.upsertModel(try await body(request))
            try await audit("model.upsert", resource: "models/\(model.id)")
            return JSONResponse.make(status: .created, RegistryRecord.json(model))
        case .listModels:
            return JSONResponse.make(.object(["models": .array(gateway.engine.models.map(RegistryRecord.json))]))
        case .patchModel:
            let modelID = Self.catchAllID(context)
            let model = try await gateway.registry.patchModel(id: modelID, try await body(request))
            try await audit("model.update", resource: "models/\(modelID)")
            return JSONResponse.make(RegistryRecord.json(model))
        case .deleteModel:
            let modelID = Self.catchAllID(context)
            try await gateway.registry.deleteModel(id: modelID)
            try await audit("model.delete", resource: "models/\(modelID)")
            return Response(status: .noContent)
        case .getRoutingConfig:
            return JSONResponse.make(RegistryRecord.json(gateway.registry.routing))
        case .putRoutingConfig:
            let policy = try await gateway.registry.putRouting(try await body(request))
            try await audit("routing_config.put", resource: "routing-config")
            return JSONResponse.make(RegistryRecord.json(policy))
        case .rewards: return try await list("reward.list", request, filters: ["model": "model_id", "mode": "mode"])
        case .rewardSummary: return try await rewardSummary(request)
        case .tsdbQuery: return try await tsdbQuery(request)
        case .listWorkflows: return try await WorkflowAdmin(client: gateway.temporal).list(request)
        case .describeWorkflow: return try await WorkflowAdmin(client: gateway.temporal).describe(id: id)
        case .workflowHistory: return try await WorkflowAdmin(client: gateway.temporal).history(id: id)
        case .reloadConfig: return try await reloadConfig()
        }
    }

    /// The admin token check (constant time), then the handler; errors become JSON answers.
    /// Without a configured token the admin API is off: any local process (or a request
    /// forged through another service) could otherwise administer the gateway.
    private func guarded(_ request: Request, _ handler: () async throws -> Response) async -> Response {
        guard let token = gateway.adminToken else {
            return APIError(.forbidden, "the admin API is off: set server.admin_token (e.g. admin_token: ${TOKENHUB_ADMIN_TOKEN}) and reload (SIGHUP) or restart",
                            type: "authentication_error", code: "admin_api_disabled").response
        }
        let presented = APIKeyService.presentedKey(authorization: request.headers[.authorization], apiKeyHeader: nil) ?? ""
        guard APIKeyService.constantTimeEquals(presented, token) else {
            return APIError(.unauthorized, "admin routes need Authorization: Bearer <admin token>", type: "authentication_error", code: "admin_token_required").response
        }
        do {
            return try await handler()
        } catch let error as APIError {
            return error.response
        } catch {
            gateway.logger.error("admin request failed", metadata: ["error": "\(error)"])
            return APIError(.internalServerError, "internal error; the gateway log has the details", type: "server_error").response
        }
    }

    /// `POST reload`: the config file again (see `ConfigReload`). 400 for an invalid file, 409
    /// when a setting that needs a restart changed, 422 when a plugin of the new generation
    /// failed; nothing is applied then.
    private func reloadConfig() async throws -> Response {
        let outcome: ConfigReloadOutcome
        do throws(ConfigReloadError) {
            outcome = try await gateway.reloadConfig()
        } catch {
            gateway.logger.error("config reload refused", metadata: ["error": "\(error.message)", "code": "\(error.code.rawValue)"])
            let status: HTTPResponse.Status = switch error.code {
            case .invalidConfig: .badRequest
            case .restartRequired: .conflict
            case .registryFailed: .badGateway
            case .pluginFailed: .unprocessableContent
            }
            throw APIError(status, error.message, code: error.code.rawValue)
        }
        if store != nil { try await audit("config.reload", resource: "config") }
        return JSONResponse.make(outcome.json)
    }

    func body(_ request: Request) async throws -> JSONValue {
        try await JSONBody.read(request, server: gateway.config.server)
    }

    /// The model ID a `models/**` route caught, percent-decoded.
    static func catchAllID(_ context: GatewayRequestContext) -> String {
        let raw = context.parameters[Parameters.recursiveCaptureKey].map(String.init) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    // MARK: Logs

    /// `limit` and `offset`, plus string `filters` (query name → store field).
    /// `logs?key=&model=&provider=&status=&error_class=&since=&until=`: each narrows the rows.
    static let logFilters = ["key": "api_key_id", "model": "model_id", "provider": "provider_id", "status": "status", "error_class": "error_class"]

    /// A page of `operation`'s rows: `limit` and `offset`, the query's `filters` (query name →
    /// store field) as strings and its `times` (ms since 1970 or RFC 3339) as ms.
    private func list(_ operation: String, _ request: Request, filters: [String: String] = [:], times: [String: String] = [:]) async throws -> Response {
        let query = request.uri.queryParameters
        var input: [String: JSONValue] = [:]
        for name in ["limit", "offset"] {
            guard let text = query[name[...]].map(String.init) else { continue }
            guard let number = Int(text) else { throw APIError.invalidField(name, "expected an integer, got \"\(text.prefix(64))\"") }
            input[name] = .number(Double(number))
        }
        for (name, field) in filters {
            if let text = query[name[...]].map(String.init), !text.isEmpty { input[field] = .string(text) }
        }
        for (name, field) in times {
            if let text = query[name[...]].map(String.init), !text.isEmpty { input[field] = .number(Double(try Self.timeMs(text, field: name))) }
        }
        return JSONResponse.make(try await call(operation, .object(input)))
    }

    /// `rewards/summary?model=&mode=&since=`: per model, mean reward, success rate, latency, cost.
    private func rewardSummary(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var input: [String: JSONValue] = [:]
        if let model = query["model"] { input["model_id"] = .string(String(model)) }
        if let mode = query["mode"] { input["mode"] = .string(String(mode)) }
        if let since = query["since"].map(String.init) { input["since_unix_ms"] = .number(Double(try Self.timeMs(since, field: "since"))) }
        return JSONResponse.make(try await call("reward.summary", .object(input)))
    }

    /// `tsdb/query?metric=&model=&provider=&start=&end=&step=`: times as ms since 1970 or
    /// RFC 3339, step as ms or `30s`/`5m`/`1h`; defaults: the last hour in 1-minute steps.
    private func tsdbQuery(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let metric = query["metric"].map(String.init), !metric.isEmpty else {
            throw APIError.invalidField("metric", "required: one of latency_ms, cost_usd, tokens, errors")
        }
        let end = try query["end"].map { (text) throws(APIError) in try Self.timeMs(String(text), field: "end") } ?? Int64(Self.nowMs())
        let start = try query["start"].map { (text) throws(APIError) in try Self.timeMs(String(text), field: "start") } ?? max(0, end - 3_600_000)
        guard end > start else { throw APIError.invalidField("end", "must be after start (\(start)), got \(end)") }
        let step = try query["step"].map { (text) throws(APIError) in try Self.durationMs(String(text), field: "step") } ?? 60_000
        var input: [String: JSONValue] = ["metric": .string(metric), "start_unix_ms": .number(Double(start)),
                                          "end_unix_ms": .number(Double(end)), "step_ms": .number(Double(step))]
        if let model = query["model"] { input["model_id"] = .string(String(model)) }
        if let provider = query["provider"] { input["provider_id"] = .string(String(provider)) }
        return JSONResponse.make(try await call("tsdb.query", .object(input)))
    }

    /// The latest time accepted: the end of year 9999, in ms since 1970.
    static let latestTimeMs: Int64 = 253_402_300_799_999
    /// The longest step accepted: a year.
    static let longestStepMs: Int64 = 366 * 86_400_000

    /// A time from a query string, from 0 to `latestTimeMs`.
    static func timeMs(_ text: String, field: String) throws(APIError) -> Int64 {
        let outOfRange = APIError.invalidField(field, "expected ms since 1970 (0 to \(latestTimeMs)) or an RFC 3339 time, got \"\(text.prefix(64))\"")
        if text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") || $0 == UInt8(ascii: "-") }) {
            guard let number = Int64(text), (0...latestTimeMs).contains(number) else { throw outOfRange }
            return number
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        guard let date = formatter.date(from: text) ?? plain.date(from: text) else {
            throw outOfRange
        }
        let milliseconds = Int64(saturating: (date.timeIntervalSince1970 * 1000).rounded())
        guard (0...latestTimeMs).contains(milliseconds) else { throw outOfRange }
        return milliseconds
    }

    /// A step from a query string: ms or `30s` / `5m` / `1h`, from 1 ms to `longestStepMs`.
    static func durationMs(_ text: String, field: String) throws(APIError) -> Int64 {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var milliseconds: Int64?
        if let number = Int64(text) {
            milliseconds = number
        } else if let (suffix, scale) = units.first(where: { text.hasSuffix($0.0) }), let number = Int64(text.dropLast(suffix.count)) {
            let (product, overflow) = number.multipliedReportingOverflow(by: scale)
            milliseconds = overflow ? Int64.max : product
        }
        guard let milliseconds, (1...longestStepMs).contains(milliseconds) else {
            throw APIError.invalidField(field, "expected a duration from 1 ms to 366 days such as 60000, 30s, 5m or 1h, got \"\(text.prefix(64))\"")
        }
        return milliseconds
    }

    // MARK: Store plumbing

    func call(_ operation: String, _ input: JSONValue) async throws(APIError) -> JSONValue {
        guard let store else {
            throw APIError(.serviceUnavailable, "no store is configured: API keys, logs and audit need `store` (e.g. SQLiteStore)",
                           type: "server_error", code: "no_store")
        }
        let reply = await store.call(operation, input.serialized)
        switch reply.status {
        case .ok: return (try? JSONValue.parse(reply.result)) ?? .null
        case .invalidArgument: throw APIError(.badRequest, reply.message, code: "invalid_field")
        default: throw APIError(.serviceUnavailable, "store: \(reply.message)", type: "server_error", code: "store_error")
        }
    }

    func audit(_ action: String, resource: String) async throws(APIError) {
        _ = try await call("audit.append", .object([
            "time_unix_ms": .number(Self.nowMs()), "request_id": .string(Gateway.newRequestID()),
            "action": .string(action), "resource": .string(resource), "detail": .string(""),
        ]))
    }

    static func nowMs() -> Double { (Date().timeIntervalSince1970 * 1000).rounded() }
}
