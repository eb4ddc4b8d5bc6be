import StoreKit
import TokenHubCore

/// The `request_log.*` operations.
enum RequestLogs {
    static let columns = "request_id, time_unix_ms, api_key_id, kind, mode, model_id, provider_id, dispatcher, estimated_cost_usd, latency_ms, status, error_class"

    /// INSERT OR IGNORE: a request id already stored is kept once; returns whether it was new.
    /// A new row settles its request's budget hold (its cost now counts as spend).
    static func append(_ row: RequestLogRow, on connection: SQLiteConnection) throws(SQLiteError) -> Bool {
        let statement = try connection.prepare("INSERT OR IGNORE INTO request_logs (\(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
        defer { statement.reset() }
        try statement.bind(row.values)
        _ = try statement.step()
        guard connection.changes == 1 else { return false }
        try Budgets.release(requestID: row.requestID, on: connection)
        return true
    }

    static func list(_ page: StoreOperation.Page, filter: LogFilter, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let clause = filter.whereClause { _ in "?" }
        let values: [SQLiteConnection.Value] = filter.terms.map {
            switch $0.value {
            case .text(let text): .text(text)
            case .integer(let number): .integer(number)
            }
        }
        let statement = try connection.prepare("SELECT \(columns) FROM request_logs\(clause) ORDER BY time_unix_ms DESC, request_id LIMIT ? OFFSET ?")
        defer { statement.reset() }
        try statement.bind(values + [.integer(Int64(page.limit)), .integer(Int64(page.offset))])
        var rows: [JSONValue] = []
        while try statement.step() { rows.append(RequestLogRow(statement).json) }
        let count = try connection.prepare("SELECT COUNT(*) FROM request_logs\(clause)")
        defer { count.reset() }
        try count.bind(values)
        let total = try count.step() ? count.integer(0) : 0
        return .object(["rows": .array(rows), "total": .number(Double(total))])
    }

    static func spend(apiKeyID: String, sinceUnixMs: Int64, on connection: SQLiteConnection) throws(SQLiteError) -> Double {
        let statement = try connection.prepare("SELECT COALESCE(SUM(estimated_cost_usd), 0) FROM request_logs WHERE api_key_id = ? AND time_unix_ms >= ?")
        defer { statement.reset() }
        try statement.bind([.text(apiKeyID), .integer(sinceUnixMs)])
        return try statement.step() ? statement.real(0) : 0
    }
}

extension RequestLogRow {
    init(_ statement: SQLiteConnection.Statement, from first: Int32 = 0) {
        self.init(requestID: statement.text(first), timeUnixMs: statement.integer(first + 1), apiKeyID: statement.text(first + 2),
                  kind: statement.text(first + 3), mode: statement.text(first + 4), modelID: statement.text(first + 5),
                  providerID: statement.text(first + 6), dispatcher: statement.text(first + 7), estimatedCostUSD: statement.real(first + 8),
                  latencyMs: statement.integer(first + 9), status: statement.text(first + 10), errorClass: statement.text(first + 11))
    }

    var values: [SQLiteConnection.Value] {
        [.text(requestID), .integer(timeUnixMs), .text(apiKeyID), .text(kind), .text(mode), .text(modelID),
         .text(providerID), .text(dispatcher), .real(estimatedCostUSD), .integer(latencyMs), .text(status), .text(errorClass)]
    }
}
