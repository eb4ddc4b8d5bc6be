import StoreKit
import TokenHubCore

/// The `reward.*` operations: one entry per request id, scoring how well the request went.
enum Rewards {
    static let columns = "request_id, time_unix_ms, api_key_id, kind, mode, model_id, provider_id, success, cost_usd, latency_ms, reward"

    /// INSERT OR IGNORE: one entry per request id.
    static func append(_ row: RewardRow, on connection: SQLiteConnection) throws(SQLiteError) -> Bool {
        let statement = try connection.prepare("INSERT OR IGNORE INTO rewards (\(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
        defer { statement.reset() }
        try statement.bind(row.values)
        _ = try statement.step()
        return connection.changes == 1
    }

    static func sql(_ filter: RewardFilter) -> (clause: String, values: [SQLiteConnection.Value]) {
        var conditions = ["time_unix_ms >= ?"]
        var values: [SQLiteConnection.Value] = [.integer(filter.sinceUnixMs)]
        if let modelID = filter.modelID { conditions.append("model_id = ?"); values.append(.text(modelID)) }
        if let mode = filter.mode { conditions.append("mode = ?"); values.append(.text(mode)) }
        return (" WHERE " + conditions.joined(separator: " AND "), values)
    }

    static func list(_ page: StoreOperation.Page, filter: RewardFilter, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let (clause, values) = sql(filter)
        let statement = try connection.prepare("SELECT \(columns) FROM rewards\(clause) ORDER BY time_unix_ms DESC, request_id LIMIT ? OFFSET ?")
        defer { statement.reset() }
        try statement.bind(values + [.integer(Int64(page.limit)), .integer(Int64(page.offset))])
        var rows: [JSONValue] = []
        while try statement.step() { rows.append(RewardRow(statement).json) }
        let count = try connection.prepare("SELECT COUNT(*) FROM rewards\(clause)")
        defer { count.reset() }
        try count.bind(values)
        let total = try count.step() ? count.integer(0) : 0
        return .object(["rows": .array(rows), "total": .number(Double(total))])
    }

    /// Per model: entries, mean reward, success rate, mean latency, total cost.
    static func summary(filter: RewardFilter, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let (clause, values) = sql(filter)
        let statement = try connection.prepare("""
            SELECT model_id, COUNT(*), AVG(reward), AVG(success), AVG(latency_ms), SUM(cost_usd)
            FROM rewards\(clause) GROUP BY model_id ORDER BY model_id
            """)
        defer { statement.reset() }
        try statement.bind(values)
        var models: [JSONValue] = []
        while try statement.step() {
            models.append(.object([
                "model_id": .string(statement.text(0)), "count": .number(Double(statement.integer(1))),
                "mean_reward": .number(statement.real(2)), "success_rate": .number(statement.real(3)),
                "mean_latency_ms": .number(statement.real(4)), "total_cost_usd": .number(statement.real(5)),
            ]))
        }
        return .object(["models": .array(models)])
    }
}

extension RewardRow {
    init(_ statement: SQLiteConnection.Statement) {
        self.init(requestID: statement.text(0), timeUnixMs: statement.integer(1), apiKeyID: statement.text(2), kind: statement.text(3),
                  mode: statement.text(4), modelID: statement.text(5), providerID: statement.text(6), success: statement.integer(7) != 0,
                  costUSD: statement.real(8), latencyMs: statement.integer(9), reward: statement.real(10))
    }

    var values: [SQLiteConnection.Value] {
        [.text(requestID), .integer(timeUnixMs), .text(apiKeyID), .text(kind), .text(mode), .text(modelID), .text(providerID),
         .integer(success ? 1 : 0), .real(costUSD), .integer(latencyMs), .real(reward)]
    }
}
