import StoreKit
import TokenHubCore

/// The `apikey.*` and `audit.*` operations. Keys are stored as their SHA-256 only; the host
/// hashes, the store never sees a key.
enum APIKeys {
    static let columns = "id, name, key_hash, key_prefix, scopes, enabled, expires_unix_ms, monthly_budget_usd, rate_limit_rps, created_unix_ms, rotated_unix_ms"

    static func create(_ record: APIKeyRecord, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("INSERT OR IGNORE INTO api_keys (\(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
        defer { statement.reset() }
        try statement.bind(record.values)
        _ = try statement.step()
        let changed = connection.changes
        if changed > 0 { try Budgets.bumpRevision(on: connection) }
        return .object(["created": .bool(changed == 1)])
    }

    static func getByHash(_ hash: String, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT \(columns) FROM api_keys WHERE key_hash = ?")
        defer { statement.reset() }
        try statement.bind([.text(hash)])
        return .object(["key": try statement.step() ? APIKeyRecord(statement).json(includingHash: true) : .null])
    }

    static func get(id: String, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT \(columns) FROM api_keys WHERE id = ?")
        defer { statement.reset() }
        try statement.bind([.text(id)])
        return .object(["key": try statement.step() ? APIKeyRecord(statement).json(includingHash: true) : .null])
    }

    static func list(on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT \(columns) FROM api_keys ORDER BY created_unix_ms, id")
        defer { statement.reset() }
        try statement.bind([])
        var keys: [JSONValue] = []
        while try statement.step() { keys.append(APIKeyRecord(statement).json(includingHash: false)) }
        return .object(["keys": .array(keys)])
    }

    /// Replaces a key's record (the host reads, changes and writes it back).
    static func update(_ record: APIKeyRecord, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let assignments = columns.split(separator: ",").dropFirst().map { "\($0.trimmingCharacters(in: .whitespaces)) = ?" }.joined(separator: ", ")
        let statement = try connection.prepare("UPDATE api_keys SET \(assignments) WHERE id = ?")
        defer { statement.reset() }
        try statement.bind(Array(record.values.dropFirst()) + [.text(record.id)])
        _ = try statement.step()
        let changed = connection.changes
        if changed > 0 { try Budgets.bumpRevision(on: connection) }
        return .object(["updated": .bool(changed == 1)])
    }

    static func delete(id: String, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("DELETE FROM api_keys WHERE id = ?")
        defer { statement.reset() }
        try statement.bind([.text(id)])
        _ = try statement.step()
        let changed = connection.changes
        if changed > 0 { try Budgets.bumpRevision(on: connection) }
        return .object(["deleted": .bool(changed == 1)])
    }

    static func appendAudit(_ row: AuditRow, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("INSERT INTO audit_logs (time_unix_ms, request_id, action, resource, detail) VALUES (?,?,?,?,?)")
        defer { statement.reset() }
        try statement.bind([.integer(row.timeUnixMs), .text(row.requestID), .text(row.action), .text(row.resource), .text(row.detail)])
        _ = try statement.step()
        return .object(["stored": .bool(true)])
    }

    static func listAudit(_ page: StoreOperation.Page, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT time_unix_ms, request_id, action, resource, detail FROM audit_logs ORDER BY seq DESC LIMIT ? OFFSET ?")
        defer { statement.reset() }
        try statement.bind([.integer(Int64(page.limit)), .integer(Int64(page.offset))])
        var rows: [JSONValue] = []
        while try statement.step() {
            rows.append(.object([
                "time_unix_ms": .number(Double(statement.integer(0))), "request_id": .string(statement.text(1)),
                "action": .string(statement.text(2)), "resource": .string(statement.text(3)), "detail": .string(statement.text(4)),
            ]))
        }
        return .object(["rows": .array(rows)])
    }
}

extension APIKeyRecord {
    init(_ statement: SQLiteConnection.Statement) {
        self.init(id: statement.text(0), name: statement.text(1), keyHash: statement.text(2), keyPrefix: statement.text(3),
                  scopes: statement.text(4).split(separator: ",").map(String.init), enabled: statement.integer(5) != 0,
                  expiresUnixMs: statement.integer(6), monthlyBudgetUSD: statement.real(7), rateLimitRPS: statement.real(8),
                  createdUnixMs: statement.integer(9), rotatedUnixMs: statement.integer(10))
    }

    var values: [SQLiteConnection.Value] {
        [.text(id), .text(name), .text(keyHash), .text(keyPrefix), .text(scopes.joined(separator: ",")), .integer(enabled ? 1 : 0),
         .integer(expiresUnixMs), .real(monthlyBudgetUSD), .real(rateLimitRPS), .integer(createdUnixMs), .integer(rotatedUnixMs)]
    }
}
