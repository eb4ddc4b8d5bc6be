import Foundation
import HTTPTypes
import Hummingbird
import PluginKit
import TokenHubCore

/// The admin API's API keys: create (the key shown once), list with the month's spend, patch,
/// rotate and delete; every change audited, revocations published on the bus.
extension AdminRoutes {
    static let keyFields: Set<String> = ["name", "scopes", "enabled", "expires_unix_ms", "monthly_budget_usd", "rate_limit_rps"]

    func createKey(_ request: Request) async throws -> Response {
        let body = try await JSONBody.read(request, server: gateway.config.server)
        var record = try applyKeyFields(body, to: [
            "id": .string("key_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)),
            "name": .string(""), "scopes": .array([]), "enabled": .bool(true), "expires_unix_ms": .number(0),
            "monthly_budget_usd": .number(0), "rate_limit_rps": .number(0), "created_unix_ms": .number(Self.nowMs()),
            "rotated_unix_ms": .number(0),
        ])
        let key = APIKeyService.newKey()
        record["key_hash"] = .string(APIKeyService.hash(key))
        record["key_prefix"] = .string(String(key.prefix(14)))
        _ = try await call("apikey.create", .object(record))
        try await audit("apikey.create", resource: "apikeys/\(record["id"]!.stringValue!)")
        var shown = record
        shown["key_hash"] = nil
        shown["key"] = .string(key)  // shown once: only its hash is stored
        return JSONResponse.make(status: .created, .object(shown))
    }

    /// The keys, each with `spend_this_month_usd` (from the request logs, since the first of
    /// the month, UTC).
    func listKeys() async throws -> Response {
        let answer = try await call("apikey.list", .object([:]))
        guard let store, var keys = answer["keys"]?.arrayValue else { return JSONResponse.make(answer) }
        let service = APIKeyService(store: store, logger: gateway.logger, cache: gateway.keyCache)
        let now = Date()
        for index in keys.indices {
            guard var key = keys[index].objectValue, let id = key["id"]?.stringValue else { continue }
            key["spend_this_month_usd"] = .number(try await service.monthSpend(keyID: id, now: now))
            keys[index] = .object(key)
        }
        return JSONResponse.make(.object(["keys": .array(keys)]))
    }

    func patchKey(_ request: Request, id: String) async throws -> Response {
        let body = try await JSONBody.read(request, server: gateway.config.server)
        var record = try await existingKey(id)
        record = try applyKeyFields(body, to: record)
        _ = try await call("apikey.update", .object(record))
        try await audit("apikey.update", resource: "apikeys/\(id)")
        if record["enabled"] == .bool(false) { gateway.services.events.publish(.keyRevoked, ["api_key_id": .string(id), "how": .string("disabled")]) }
        record["key_hash"] = nil
        return JSONResponse.make(.object(record))
    }

    func deleteKey(id: String) async throws -> Response {
        let result = try await call("apikey.delete", .object(["id": .string(id)]))
        guard result["deleted"] == .bool(true) else { throw APIError(.notFound, "no API key with id \(id)", code: "not_found") }
        try await audit("apikey.delete", resource: "apikeys/\(id)")
        gateway.services.events.publish(.keyRevoked, ["api_key_id": .string(id), "how": .string("deleted")])
        return Response(status: .noContent)
    }

    func rotateKey(id: String) async throws -> Response {
        var record = try await existingKey(id)
        let key = APIKeyService.newKey()
        record["key_hash"] = .string(APIKeyService.hash(key))
        record["key_prefix"] = .string(String(key.prefix(14)))
        record["rotated_unix_ms"] = .number(Self.nowMs())
        _ = try await call("apikey.update", .object(record))
        try await audit("apikey.rotate", resource: "apikeys/\(id)")
        gateway.services.events.publish(.keyRevoked, ["api_key_id": .string(id), "how": .string("rotated")])
        record["key_hash"] = nil
        record["key"] = .string(key)
        return JSONResponse.make(.object(record))
    }

    /// The stored record of `id`, hash included (the host keeps it; clients never see it).
    private func existingKey(_ id: String) async throws(APIError) -> [String: JSONValue] {
        guard let record = try await call("apikey.get", .object(["id": .string(id)]))["key"]?.objectValue else {
            throw APIError(.notFound, "no API key with id \(id)", code: "not_found")
        }
        return record
    }

    private func applyKeyFields(_ body: JSONValue, to record: [String: JSONValue]) throws(APIError) -> [String: JSONValue] {
        let members = try RequestReader.object(body, at: "body", allowed: Self.keyFields)
        var record = record
        if let name = try RequestReader.string(members["name"], at: "name") { record["name"] = .string(name) }
        if let scopes = members["scopes"], scopes != .null {
            guard case .array(let list) = scopes, list.allSatisfy({ $0.stringValue.map(APIKeyService.scopes.contains) ?? false }) else {
                throw .invalidField("scopes", "expected an array of \(APIKeyService.scopes.sorted().joined(separator: ", ")) (empty = all)")
            }
            record["scopes"] = scopes
        }
        if let enabled = try RequestReader.bool(members["enabled"], at: "enabled") { record["enabled"] = .bool(enabled) }
        if let expires = try RequestReader.number(members["expires_unix_ms"], at: "expires_unix_ms", in: 0...9e15) { record["expires_unix_ms"] = .number(expires) }
        if let budget = try RequestReader.number(members["monthly_budget_usd"], at: "monthly_budget_usd", in: 0...1e9) { record["monthly_budget_usd"] = .number(budget) }
        if let rate = try RequestReader.number(members["rate_limit_rps"], at: "rate_limit_rps", in: 0...1e6) { record["rate_limit_rps"] = .number(rate) }
        return record
    }
}
