import TokenHubCore

/// The `reward.*` operations: one entry per request id, scoring how well the request went.
enum Rewards {
    static let columns = "request_id, time_unix_ms, api_key_id, kind, mode, model_id, provider_id, success, cost_usd, latency_ms, reward"

    struct Row {
        var requestID: String
        var timeUnixMs: Int64
        var apiKeyID, kind, mode, modelID, providerID: String
        var success: Bool
        var costUSD: Double
        var latencyMs: Int64
        var reward: Double

        init(json: JSONValue) throws(PayloadError) {
            let fields = try PayloadFields(json, path: "")
            requestID = try fields.requiredString("request_id")
            guard !requestID.isEmpty else { throw PayloadError("request_id: must not be empty") }
            timeUnixMs = Int64(try fields.int("time_unix_ms", default: 0))
            apiKeyID = try fields.string("api_key_id")
            kind = try fields.string("kind", default: "chat")
            mode = try fields.string("mode")
            modelID = try fields.string("model_id")
            providerID = try fields.string("provider_id")
            success = try fields.bool("success", default: false)
            costUSD = try fields.double("cost_usd", default: 0)
            latencyMs = Int64(try fields.int("latency_ms", default: 0))
            reward = try fields.double("reward", default: 0)
            guard (0...1).contains(reward) else { throw PayloadError("reward: expected 0 to 1, got \(reward)") }
        }

        init(_ statement: SQLiteConnection.Statement) {
            requestID = statement.text(0)
            timeUnixMs = statement.integer(1)
            apiKeyID = statement.text(2)
            kind = statement.text(3)
            mode = statement.text(4)
            modelID = statement.text(5)
            providerID = statement.text(6)
            success = statement.integer(7) != 0
            costUSD = statement.real(8)
            latencyMs = statement.integer(9)
            reward = statement.real(10)
        }

        var values: [SQLiteConnection.Value] {
            [.text(requestID), .integer(timeUnixMs), .text(apiKeyID), .text(kind), .text(mode), .text(modelID), .text(providerID),
             .integer(success ? 1 : 0), .real(costUSD), .integer(latencyMs), .real(reward)]
        }

        var json: JSONValue {
            .object([
                "request_id": .string(requestID), "time_unix_ms": .number(Double(timeUnixMs)), "api_key_id": .string(apiKeyID),
                "kind": .string(kind), "mode": .string(mode), "model_id": .string(modelID), "provider_id": .string(providerID),
                "success": .bool(success), "cost_usd": .number(costUSD), "latency_ms": .number(Double(latencyMs)), "reward": .number(reward),
            ])
        }
    }

    /// INSERT OR IGNORE: one entry per request id.
    static func append(_ row: Row, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("INSERT OR IGNORE INTO rewards (\(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
        defer { statement.reset() }
        try statement.bind(row.values)
        _ = try statement.step()
        return .object(["stored": .bool(connection.changes == 1)])
    }

    /// Filters of `reward.list` and `reward.summary`.
    struct Filter {
        var modelID: String?
        var mode: String?
        var sinceUnixMs: Int64

        init(_ fields: PayloadFields) throws(PayloadError) {
            modelID = fields["model_id"] == nil ? nil : try fields.string("model_id")
            mode = fields["mode"] == nil ? nil : try fields.string("mode")
            sinceUnixMs = Int64(try fields.int("since_unix_ms", default: 0))
        }

        var sql: (clause: String, values: [SQLiteConnection.Value]) {
            var conditions = ["time_unix_ms >= ?"]
            var values: [SQLiteConnection.Value] = [.integer(sinceUnixMs)]
            if let modelID { conditions.append("model_id = ?"); values.append(.text(modelID)) }
            if let mode { conditions.append("mode = ?"); values.append(.text(mode)) }
            return (" WHERE " + conditions.joined(separator: " AND "), values)
        }
    }

    static func list(limit: Int, offset: Int, filter: Filter, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let (clause, values) = filter.sql
        let statement = try connection.prepare("SELECT \(columns) FROM rewards\(clause) ORDER BY time_unix_ms DESC, request_id LIMIT ? OFFSET ?")
        defer { statement.reset() }
        try statement.bind(values + [.integer(Int64(limit)), .integer(Int64(offset))])
        var rows: [JSONValue] = []
        while try statement.step() { rows.append(Row(statement).json) }
        let count = try connection.prepare("SELECT COUNT(*) FROM rewards\(clause)")
        defer { count.reset() }
        try count.bind(values)
        let total = try count.step() ? count.integer(0) : 0
        return .object(["rows": .array(rows), "total": .number(Double(total))])
    }

    /// Per model: entries, mean reward, success rate, mean latency, total cost.
    static func summary(filter: Filter, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let (clause, values) = filter.sql
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
