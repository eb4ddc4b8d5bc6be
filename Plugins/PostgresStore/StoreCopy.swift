import StoreKit
import TokenHubCore

/// `copy.*` on PostgreSQL: the same pages and cursors as SQLiteStore's (ids for keyed kinds,
/// sequence numbers for audit and points), and imports that record progress in the same
/// transaction as their rows.
enum StoreCopy {
    static func export(_ kind: CopyKind, after cursor: String, limit: Int, _ sql: SQL) async throws -> JSONValue {
        var rows: [JSONValue] = []
        var next = ""
        let position = Int64(cursor) ?? 0
        let limitValue = SQL.Value.integer(Int64(limit))
        switch kind {
        case .providers, .models:
            for (id, record) in try await Operations.listRecords(kind == .providers ? .providers : .models, after: cursor, limit: limit, sql) {
                rows.append(record)
                next = id
            }
        case .routingConfig:
            if cursor.isEmpty, let value = try await Operations.getSetting("routing", sql) {
                rows.append(.object(["value": value]))
                next = "routing"
            }
        case .apiKeys:
            for row in try await sql.rows("SELECT \(Operations.keyColumns) FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2", [.text(cursor), limitValue]) {
                let record = try Operations.keyRecord(row)
                rows.append(record.json(includingHash: true))
                next = record.id
            }
        case .requestLogs:
            for row in try await sql.rows("SELECT \(Operations.logColumns) FROM request_logs WHERE request_id > $1 ORDER BY request_id LIMIT $2",
                                          [.text(cursor), limitValue]) {
                let log = try Operations.logRow(row)
                rows.append(log.json)
                next = log.requestID
            }
        case .rewards:
            for row in try await sql.rows("SELECT \(Operations.rewardColumns) FROM rewards WHERE request_id > $1 ORDER BY request_id LIMIT $2",
                                          [.text(cursor), limitValue]) {
                let reward = try Operations.rewardRow(row)
                rows.append(reward.json)
                next = reward.requestID
            }
        case .audit:
            for row in try await sql.rows("""
                SELECT seq, time_unix_ms, request_id, action, resource, detail FROM audit_logs WHERE seq > $1 ORDER BY seq LIMIT $2
                """, [.integer(position), limitValue]) {
                next = String(try row.integer(0))
                rows.append(AuditRow(timeUnixMs: try row.integer(1), requestID: try row.text(2), action: try row.text(3),
                                     resource: try row.text(4), detail: try row.text(5)).json)
            }
        case .tsdbPoints:
            for row in try await sql.rows("""
                SELECT seq, metric, model_id, provider_id, time_unix_ms, value FROM tsdb_points WHERE seq > $1 ORDER BY seq LIMIT $2
                """, [.integer(position), limitValue]) {
                next = String(try row.integer(0))
                rows.append(TimeSeriesPoint(metric: try row.text(1), modelID: try row.text(2), providerID: try row.text(3),
                                            timeUnixMs: try row.integer(4), value: try row.real(5)).json)
            }
        }
        return .object(["rows": .array(rows), "next": .string(next)])
    }

    /// Call inside a transaction: the rows and the progress commit together.
    static func importRows(_ kind: CopyKind, source: String, cursor: String, batch: CopyBatch, _ sql: SQL) async throws -> JSONValue {
        var stored = 0
        switch batch {
        case .records(let table, let records):
            for (id, record) in records where try await Operations.upsert(table, id: id, record: record, onlyIfAbsent: true, sql) { stored += 1 }
        case .routingConfig(let value):
            if let value, try await Operations.putSetting("routing", value, onlyIfAbsent: true, sql) { stored += 1 }
        case .apiKeys(let keys):
            for key in keys where try await Operations.createKey(key, sql) { stored += 1 }
        case .requestLogs(let rows):
            stored = try await Operations.append(rows.map { StoreOperation.LoggedResult(row: $0, reward: nil, points: []) }, sql).count
        case .rewards(let rows):
            stored = try await Operations.appendRewards(rows, sql).count
        case .audit(let rows):
            try await Operations.appendAudit(rows, sql)
            stored = rows.count
        case .points(let points):
            try await Operations.appendPoints(points, sql)
            stored = points.count
        }
        try await sql.rows("""
            INSERT INTO copy_progress (source, kind, cursor) VALUES ($1, $2, $3) ON CONFLICT (source, kind) DO UPDATE SET cursor = EXCLUDED.cursor
            """, [.text(source), .text(kind.rawValue), .text(cursor)])
        return .object(["stored": .number(Double(stored))])
    }

    static func progress(_ kind: CopyKind, source: String, _ sql: SQL) async throws -> JSONValue {
        let rows = try await sql.rows("SELECT cursor FROM copy_progress WHERE source = $1 AND kind = $2", [.text(source), .text(kind.rawValue)])
        return .object(["cursor": .string(try rows.first?.text(0) ?? "")])
    }
}
