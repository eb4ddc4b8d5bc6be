import TokenHubCore

/// The `request_log.*` operations.
enum RequestLogs {
    static let columns = "request_id, time_unix_ms, api_key_id, kind, mode, model_id, provider_id, dispatcher, estimated_cost_usd, latency_ms, status, error_class"

    /// One row as the operations exchange it.
    struct Row {
        var requestID: String
        var timeUnixMs: Int64
        var apiKeyID, kind, mode, modelID, providerID, dispatcher: String
        var estimatedCostUSD: Double
        var latencyMs: Int64
        var status, errorClass: String

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
            dispatcher = try fields.string("dispatcher")
            estimatedCostUSD = try fields.double("estimated_cost_usd", default: 0)
            latencyMs = Int64(try fields.int("latency_ms", default: 0))
            status = try fields.string("status", default: "ok")
            errorClass = try fields.string("error_class")
        }

        init(_ statement: SQLiteConnection.Statement) {
            requestID = statement.text(0)
            timeUnixMs = statement.integer(1)
            apiKeyID = statement.text(2)
            kind = statement.text(3)
            mode = statement.text(4)
            modelID = statement.text(5)
            providerID = statement.text(6)
            dispatcher = statement.text(7)
            estimatedCostUSD = statement.real(8)
            latencyMs = statement.integer(9)
            status = statement.text(10)
            errorClass = statement.text(11)
        }

        var values: [SQLiteConnection.Value] {
            [.text(requestID), .integer(timeUnixMs), .text(apiKeyID), .text(kind), .text(mode), .text(modelID),
             .text(providerID), .text(dispatcher), .real(estimatedCostUSD), .integer(latencyMs), .text(status), .text(errorClass)]
        }

        var json: JSONValue {
            .object([
                "request_id": .string(requestID), "time_unix_ms": .number(Double(timeUnixMs)), "api_key_id": .string(apiKeyID),
                "kind": .string(kind), "mode": .string(mode), "model_id": .string(modelID), "provider_id": .string(providerID),
                "dispatcher": .string(dispatcher), "estimated_cost_usd": .number(estimatedCostUSD),
                "latency_ms": .number(Double(latencyMs)), "status": .string(status), "error_class": .string(errorClass),
            ])
        }
    }

    /// INSERT OR IGNORE: a request id already stored is kept once; `stored` says which.
    static func append(_ row: Row, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("INSERT OR IGNORE INTO request_logs (\(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
        defer { statement.reset() }
        try statement.bind(row.values)
        _ = try statement.step()
        return .object(["stored": .bool(connection.changes == 1)])
    }

    static func list(limit: Int, offset: Int, apiKeyID: String?, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let filter = apiKeyID == nil ? "" : " WHERE api_key_id = ?"
        let key: [SQLiteConnection.Value] = apiKeyID.map { [.text($0)] } ?? []
        let statement = try connection.prepare("SELECT \(columns) FROM request_logs\(filter) ORDER BY time_unix_ms DESC, request_id LIMIT ? OFFSET ?")
        defer { statement.reset() }
        try statement.bind(key + [.integer(Int64(limit)), .integer(Int64(offset))])
        var rows: [JSONValue] = []
        while try statement.step() { rows.append(Row(statement).json) }
        let count = try connection.prepare("SELECT COUNT(*) FROM request_logs\(filter)")
        defer { count.reset() }
        try count.bind(key)
        let total = try count.step() ? count.integer(0) : 0
        return .object(["rows": .array(rows), "total": .number(Double(total))])
    }

    static func spend(apiKeyID: String, sinceUnixMs: Int64, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT COALESCE(SUM(estimated_cost_usd), 0) FROM request_logs WHERE api_key_id = ? AND time_unix_ms >= ?")
        defer { statement.reset() }
        try statement.bind([.text(apiKeyID), .integer(sinceUnixMs)])
        return .object(["usd": .number(try statement.step() ? statement.real(0) : 0)])
    }
}
