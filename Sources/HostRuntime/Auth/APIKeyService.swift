import Crypto
import Foundation
import Logging
import PluginKit
import TokenHubCore

/// API keys: `tokenhub_` + 32 random bytes as hex, shown once at creation, stored as their
/// SHA-256 (keys are high-entropy, so a fast hash is the right one), checked on every request
/// against the store (no cache: a revoke takes effect on the very next request).
struct APIKeyService: Sendable {
    let store: StoreInstance
    /// Where store failures are logged: clients get only the class of the failure.
    var logger: Logger? = nil
    /// Recently validated keys, answered from while the store cannot answer (`KeyCache`).
    var cache: KeyCache? = nil

    /// What a valid key grants.
    struct Grant: Sendable {
        var id: String
        var scopes: [String]
        var monthlyBudgetUSD: Double
        var rateLimitRPS: Double
        /// Empty scopes mean every scope.
        func allows(_ scope: String) -> Bool { scopes.isEmpty || scopes.contains(scope) }
    }

    static let scopes: Set<String> = ["chat", "plan"]

    static func newKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "tokenhub_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two strings in time that depends on neither their contents nor their
    /// lengths: both are hashed first, and the digests (always 32 bytes) are compared.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(SHA256.hash(data: Data(a.utf8))), right = Array(SHA256.hash(data: Data(b.utf8)))
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    /// The key presented in `Authorization: Bearer …` or `x-api-key`.
    static func presentedKey(authorization: String?, apiKeyHeader: String?) -> String? {
        if let authorization, authorization.lowercased().hasPrefix("bearer ") {
            let key = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
            if !key.isEmpty { return key }
        }
        if let apiKeyHeader, !apiKeyHeader.isEmpty { return apiKeyHeader }
        return nil
    }

    /// Checks a presented key for `scope` (nil: any valid key may pass): 401 unknown, disabled
    /// or expired; 403 wrong scope; 503 when the store cannot tell. A key's monthly budget is
    /// checked by `hold`, once the request's cost can be estimated.
    func authenticate(_ key: String?, scope: String?, now: Date = Date()) async throws(APIError) -> Grant {
        guard let key else {
            throw APIError(.unauthorized, "missing API key: send Authorization: Bearer <key> or x-api-key", type: "authentication_error", code: "missing_api_key")
        }
        let hash = Self.hash(key)
        let reply = await store.call("apikey.get_by_hash", JSONValue.object(["key_hash": .string(hash)]).serialized)
        var answer = reply.status == .ok ? (try? JSONValue.parse(reply.result))?["key"] : nil
        if reply.status != .ok {
            if cache?.shouldReportFailure() ?? true {
                logger?.error("cannot check API keys: the store failed; recently seen keys are answered from the key cache",
                              metadata: ["error": "\(reply.message)"])
            }
            answer = cache?.recall(hash)
            guard answer != nil else {
                throw APIError(.serviceUnavailable, "cannot check the API key now; try again later", type: "server_error", code: "store_unavailable")
            }
        }
        guard let found = answer, found != .null, let storedHash = found["key_hash"]?.stringValue, Self.constantTimeEquals(storedHash, hash) else {
            cache?.forget(hash)
            throw APIError(.unauthorized, "invalid API key", type: "authentication_error", code: "invalid_api_key")
        }
        if reply.status == .ok { cache?.remember(hash, found) }
        let nowMs = (now.timeIntervalSince1970 * 1000).rounded()
        if found["enabled"] == .bool(false) {
            throw APIError(.unauthorized, "API key is disabled", type: "authentication_error", code: "api_key_disabled")
        }
        if let expires = found["expires_unix_ms"]?.numberValue, expires > 0, expires <= nowMs {
            throw APIError(.unauthorized, "API key has expired", type: "authentication_error", code: "api_key_expired")
        }
        let grant = Grant(id: found["id"]?.stringValue ?? "", scopes: found["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                          monthlyBudgetUSD: found["monthly_budget_usd"]?.numberValue ?? 0,
                          rateLimitRPS: found["rate_limit_rps"]?.numberValue ?? 0)
        if let scope, !grant.allows(scope) {
            throw APIError(.forbidden, "API key lacks the \(scope) scope (it has \(grant.scopes.joined(separator: ", ")))",
                           type: "permission_error", code: "scope_denied")
        }
        return grant
    }

    /// Holds `estimateUSD` of the key's monthly budget for `requestID` in the store, which
    /// admits it only while the month's spend plus the holds of requests in flight (on every
    /// instance sharing the store) is under the budget; the request's log row settles the
    /// hold, and `holdFor` bounds it if the row never comes. So concurrent requests can pass
    /// the budget by at most one request's cost. 429 over budget (with the budget, spend and
    /// holds); 503 when the store cannot tell (budgets fail closed). A store without
    /// `budget.reserve` gets the spend check alone.
    func hold(_ grant: Grant, requestID: String, estimateUSD: Double, holdFor: Duration, now: Date = Date()) async throws(APIError) {
        guard grant.monthlyBudgetUSD > 0 else { return }
        let nowMs = (now.timeIntervalSince1970 * 1000).rounded()
        let request: JSONValue = .object([
            "request_id": .string(requestID), "api_key_id": .string(grant.id), "budget_usd": .number(grant.monthlyBudgetUSD),
            "estimate_usd": .number(max(0, estimateUSD.isFinite ? estimateUSD : 0)), "since_unix_ms": .number(Self.monthStartMs(now)),
            "now_unix_ms": .number(nowMs), "expires_unix_ms": .number(nowMs + Double(holdFor.totalMilliseconds.rounded())),
        ])
        let reply = await store.call("budget.reserve", request.serialized)
        if reply.status == .notSupported {
            let spend = try await monthSpend(keyID: grant.id, now: now)
            if spend >= grant.monthlyBudgetUSD { throw Self.overBudget(grant, spent: spend, held: 0) }
            return
        }
        guard reply.status == .ok, let answer = try? JSONValue.parse(reply.result), case .bool(let admitted)? = answer["admitted"] else {
            logger?.error("cannot hold an API key's budget: the store failed", metadata: ["error": "\(reply.message)"])
            throw APIError(.serviceUnavailable, "cannot check the API key's budget now; try again later", type: "server_error", code: "store_unavailable")
        }
        if !admitted {
            throw Self.overBudget(grant, spent: answer["spent_usd"]?.numberValue ?? 0, held: answer["reserved_usd"]?.numberValue ?? 0)
        }
    }

    static func overBudget(_ grant: Grant, spent: Double, held: Double) -> APIError {
        APIError(.tooManyRequests,
                 String(format: "API key is over its monthly budget: budget $%.4f, spent $%.4f this month, $%.4f held by requests in flight",
                        grant.monthlyBudgetUSD, spent, held),
                 type: "budget_exceeded", code: "budget_exceeded")
    }

    /// The first of `now`'s month (UTC), in ms since 1970.
    static func monthStartMs(_ now: Date) -> Double {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: now)) ?? now
        return (start.timeIntervalSince1970 * 1000).rounded()
    }

    /// Spend of `keyID` since the first of the current month (UTC), from the request logs;
    /// 503 when the store cannot answer.
    func monthSpend(keyID: String, now: Date) async throws(APIError) -> Double {
        let query: JSONValue = .object(["api_key_id": .string(keyID), "since_unix_ms": .number(Self.monthStartMs(now))])
        let reply = await store.call("request_log.spend", query.serialized)
        guard reply.status == .ok, let usd = (try? JSONValue.parse(reply.result))?["usd"]?.numberValue, usd >= 0 else {
            logger?.error("cannot read an API key's spend: the store failed", metadata: ["error": "\(reply.message)"])
            throw APIError(.serviceUnavailable, "cannot check the API key's budget now; try again later", type: "server_error", code: "store_unavailable")
        }
        return usd
    }
}
