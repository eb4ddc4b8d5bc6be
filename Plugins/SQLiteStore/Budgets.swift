import StoreKit
import TokenHubCore

/// `budget.*`: holds on a key's budget for requests in flight, and the store's revision.
enum Budgets {
    /// Admits when the key's spend since the period start plus its live holds (other
    /// requests') is under the budget, and then holds `estimate` for this request. Runs on the
    /// writer, so two reservations never interleave.
    static func reserve(_ hold: BudgetReservation, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let spent = try RequestLogs.spend(apiKeyID: hold.apiKeyID, sinceUnixMs: hold.sinceUnixMs, on: connection)
        let held = try connection.prepare("""
            SELECT COALESCE(SUM(amount_usd), 0) FROM budget_reservations
            WHERE api_key_id = ? AND expires_unix_ms > ? AND request_id <> ?
            """)
        defer { held.reset() }
        try held.bind([.text(hold.apiKeyID), .integer(hold.nowUnixMs), .text(hold.requestID)])
        let reserved = try held.step() ? held.real(0) : 0
        let admitted = spent + reserved < hold.budgetUSD
        if admitted {
            let insert = try connection.prepare("""
                INSERT OR REPLACE INTO budget_reservations (request_id, api_key_id, amount_usd, expires_unix_ms) VALUES (?,?,?,?)
                """)
            defer { insert.reset() }
            try insert.bind([.text(hold.requestID), .text(hold.apiKeyID), .real(hold.estimateUSD), .integer(hold.expiresUnixMs)])
            _ = try insert.step()
        }
        let sweep = try connection.prepare("DELETE FROM budget_reservations WHERE expires_unix_ms <= ?")
        defer { sweep.reset() }
        try sweep.bind([.integer(hold.nowUnixMs)])
        _ = try sweep.step()
        return BudgetReservation.answer(admitted: admitted, spentUSD: spent, reservedUSD: reserved)
    }

    /// Drops a request's hold; returns whether there was one.
    @discardableResult
    static func release(requestID: String, on connection: SQLiteConnection) throws(SQLiteError) -> Bool {
        let statement = try connection.prepare("DELETE FROM budget_reservations WHERE request_id = ?")
        defer { statement.reset() }
        try statement.bind([.text(requestID)])
        _ = try statement.step()
        return connection.changes == 1
    }

    /// Counts a change to keys, the registry or settings, so other instances sharing the file
    /// notice it (`store.revision`).
    static func bumpRevision(on connection: SQLiteConnection) throws(SQLiteError) {
        try connection.execute("UPDATE store_revision SET revision = revision + 1")
    }

    static func revision(on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT revision FROM store_revision")
        defer { statement.reset() }
        return .object(["revision": .number(Double(try statement.step() ? statement.integer(0) : 0))])
    }
}
