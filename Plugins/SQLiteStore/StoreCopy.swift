import StoreKit
import TokenHubCore

/// `copy.*`: pages of every kind in a stable order (`copy.export`), and idempotent writes that
/// record how far a source was copied in the same transaction (`copy.import`), so a copy
/// resumes where it stopped and a second run writes nothing twice.
enum StoreCopy {
    /// Up to `limit` rows of `kind` after `cursor` ("" = from the start): `{rows, next}`, where
    /// `next` is the cursor of the last row ("" when there were none).
    static func export(_ kind: CopyKind, after cursor: String, limit: Int, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        var rows: [JSONValue] = []
        var next = ""
        let position = Int64(cursor) ?? 0
        switch kind {
        case .providers, .models:
            let table: RegistryTable = kind == .providers ? .providers : .models
            let statement = try connection.prepare("SELECT id, record FROM \(table.rawValue) WHERE id > ? ORDER BY id LIMIT ?")
            defer { statement.reset() }
            try statement.bind([.text(cursor), .integer(Int64(limit))])
            while try statement.step() {
                next = statement.text(0)
                if let record = try? JSONValue.parse(statement.text(1)) { rows.append(record) }
            }
        case .routingConfig:
            guard cursor.isEmpty else { break }
            if let value = try RegistryRecords.getSetting("routing", on: connection)["value"], value != .null {
                rows.append(.object(["value": value]))
                next = "routing"
            }
        case .apiKeys:
            let statement = try connection.prepare("SELECT \(APIKeys.columns) FROM api_keys WHERE id > ? ORDER BY id LIMIT ?")
            defer { statement.reset() }
            try statement.bind([.text(cursor), .integer(Int64(limit))])
            while try statement.step() {
                let record = APIKeyRecord(statement)
                rows.append(record.json(includingHash: true))
                next = record.id
            }
        case .requestLogs:
            let statement = try connection.prepare("SELECT \(RequestLogs.columns) FROM request_logs WHERE request_id > ? ORDER BY request_id LIMIT ?")
            defer { statement.reset() }
            try statement.bind([.text(cursor), .integer(Int64(limit))])
            while try statement.step() {
                let row = RequestLogRow(statement)
                rows.append(row.json)
                next = row.requestID
            }
        case .rewards:
            let statement = try connection.prepare("SELECT \(Rewards.columns) FROM rewards WHERE request_id > ? ORDER BY request_id LIMIT ?")
            defer { statement.reset() }
            try statement.bind([.text(cursor), .integer(Int64(limit))])
            while try statement.step() {
                let row = RewardRow(statement)
                rows.append(row.json)
                next = row.requestID
            }
        case .audit:
            let statement = try connection.prepare("""
                SELECT seq, time_unix_ms, request_id, action, resource, detail FROM audit_logs WHERE seq > ? ORDER BY seq LIMIT ?
                """)
            defer { statement.reset() }
            try statement.bind([.integer(position), .integer(Int64(limit))])
            while try statement.step() {
                next = String(statement.integer(0))
                rows.append(AuditRow(timeUnixMs: statement.integer(1), requestID: statement.text(2), action: statement.text(3),
                                     resource: statement.text(4), detail: statement.text(5)).json)
            }
        case .tsdbPoints:
            let statement = try connection.prepare("""
                SELECT rowid, metric, model_id, provider_id, time_unix_ms, value FROM tsdb_points WHERE rowid > ? ORDER BY rowid LIMIT ?
                """)
            defer { statement.reset() }
            try statement.bind([.integer(position), .integer(Int64(limit))])
            while try statement.step() {
                next = String(statement.integer(0))
                rows.append(TimeSeriesPoint(metric: statement.text(1), modelID: statement.text(2), providerID: statement.text(3),
                                            timeUnixMs: statement.integer(4), value: statement.real(5)).json)
            }
        }
        return .object(["rows": .array(rows), "next": .string(next)])
    }

    /// Writes `batch` (rows already present are skipped) and records `cursor` as how far
    /// `source` was copied for `kind`: `{stored}`.
    static func importRows(_ kind: CopyKind, source: String, cursor: String, batch: CopyBatch,
                           on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        var stored = 0
        switch batch {
        case .records(let table, let records):
            for (_, record) in records where try RegistryRecords.upsert(table, record: record, onlyIfAbsent: true, on: connection)["stored"] == .bool(true) {
                stored += 1
            }
        case .routingConfig(let value):
            if let value, try RegistryRecords.getSetting("routing", on: connection)["value"] == .null {
                _ = try RegistryRecords.putSetting("routing", value: value, on: connection)
                stored += 1
            }
        case .apiKeys(let keys):
            for key in keys where try APIKeys.create(key, on: connection)["created"] == .bool(true) { stored += 1 }
        case .requestLogs(let rows):
            for row in rows where try RequestLogs.append(row, on: connection) { stored += 1 }
        case .rewards(let rows):
            for row in rows where try Rewards.append(row, on: connection) { stored += 1 }
        case .audit(let rows):
            for row in rows { _ = try APIKeys.appendAudit(row, on: connection) }
            stored = rows.count
        case .points(let points):
            try TimeSeries.append(points, on: connection)
            stored = points.count
        }
        let progress = try connection.prepare("INSERT OR REPLACE INTO copy_progress (source, kind, cursor) VALUES (?, ?, ?)")
        defer { progress.reset() }
        try progress.bind([.text(source), .text(kind.rawValue), .text(cursor)])
        _ = try progress.step()
        return .object(["stored": .number(Double(stored))])
    }

    /// How far `source` was copied for `kind`: `{cursor}` ("" = not yet).
    static func progress(_ kind: CopyKind, source: String, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT cursor FROM copy_progress WHERE source = ? AND kind = ?")
        defer { statement.reset() }
        try statement.bind([.text(source), .text(kind.rawValue)])
        return .object(["cursor": .string(try statement.step() ? statement.text(0) : "")])
    }
}
