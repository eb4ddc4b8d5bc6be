import Hummingbird
import TokenHubCore

/// The admin API's live views: provider health (the event stream and the stats windows are
/// `EventStream` and `StatsCollector`).
extension AdminRoutes {
    /// `GET /admin/v1/health`: every configured provider's state, latency EWMA, error rate, last
    /// error class and the time of its last state change (a provider never called is healthy).
    func providerHealth() -> Response {
        let reports = Dictionary(uniqueKeysWithValues: gateway.engine.health.reports().map { ($0.providerID, $0) })
        let providers: [JSONValue] = gateway.engine.providers.map { provider in
            let report = reports[provider.id]
            var entry: [String: JSONValue] = [
                "id": .string(provider.id), "type": .string(provider.type.rawValue), "enabled": .bool(provider.enabled),
                "state": .string(report?.state.rawValue ?? "healthy"), "latency_ewma_ms": .number(report?.latencyMs ?? 0),
                "error_rate": .number(report?.errorRate ?? 0), "consecutive_errors": .number(Double(report?.consecutiveErrors ?? 0)),
                "last_error_class": report?.lastErrorClass.map(JSONValue.string) ?? .null,
                "last_change_unix_ms": report?.lastChangeUnixMs.map { .number(Double($0)) } ?? .null,
            ]
            if report == nil { entry["note"] = .string("not called yet") }
            return .object(entry)
        }
        return JSONResponse.make(.object(["providers": .array(providers)]))
    }
}
