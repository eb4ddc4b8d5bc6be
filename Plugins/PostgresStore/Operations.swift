import Foundation
import StoreKit
import TokenHubCore

/// The operations' SQL, one function per operation, each on a leased connection. Semantics
/// are SQLiteStore's (the conformance suite runs both): one row per request id
/// (`ON CONFLICT DO NOTHING`), newest first, the same answers.
enum Operations {
    static let logColumns = "request_id, time_unix_ms, api_key_id, kind, mode, model_id, provider_id, dispatcher, estimated_cost_usd, latency_ms, status, error_class"
    static let rewardColumns = "request_id, time_unix_ms, api_key_id, kind, mode, model_id, provider_id, success, cost_usd, latency_ms, reward"
    static let keyColumns = "id, name, key_hash, key_prefix, scopes, enabled, expires_unix_ms, monthly_budget_usd, rate_limit_rps, created_unix_ms, rotated_unix_ms"

    // MARK: Log appends (batched by `LogWriter`)

    /// Inserts the rows that are new and, for exactly those, their rewards and points; settles
    /// their budget holds. Returns the request ids stored.
    static func append(_ items: [StoreOperation.LoggedResult], _ sql: SQL) async throws -> Set<String> {
        guard !items.isEmpty else { return [] }
        let rows = items.map(\.row)
        let inserted = try await sql.rows("""
            INSERT INTO request_logs (\(logColumns))
            SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                                 $9::float8[], $10::bigint[], $11::text[], $12::text[])
            ON CONFLICT (request_id) DO NOTHING RETURNING request_id
            """, [
                .texts(rows.map(\.requestID)), .integers(rows.map(\.timeUnixMs)), .texts(rows.map(\.apiKeyID)), .texts(rows.map(\.kind)),
                .texts(rows.map(\.mode)), .texts(rows.map(\.modelID)), .texts(rows.map(\.providerID)), .texts(rows.map(\.dispatcher)),
                .reals(rows.map(\.estimatedCostUSD)), .integers(rows.map(\.latencyMs)), .texts(rows.map(\.status)), .texts(rows.map(\.errorClass)),
            ])
        var stored = Set<String>()
        for row in inserted { stored.insert(try row.text(0)) }
        guard !stored.isEmpty else { return stored }
        let fresh = items.filter { stored.contains($0.row.requestID) }
        _ = try await appendRewards(fresh.compactMap(\.reward), sql)
        try await appendPoints(fresh.flatMap(\.points), sql)
        try await sql.rows("DELETE FROM budget_reservations WHERE request_id = ANY($1::text[])", [.texts(Array(stored))])
        return stored
    }

    static func appendRewards(_ rows: [RewardRow], _ sql: SQL) async throws -> Set<String> {
        guard !rows.isEmpty else { return [] }
        let inserted = try await sql.rows("""
            INSERT INTO rewards (\(rewardColumns))
            SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[],
                                 $9::float8[], $10::bigint[], $11::float8[])
            ON CONFLICT (request_id) DO NOTHING RETURNING request_id
            """, [
                .texts(rows.map(\.requestID)), .integers(rows.map(\.timeUnixMs)), .texts(rows.map(\.apiKeyID)), .texts(rows.map(\.kind)),
                .texts(rows.map(\.mode)), .texts(rows.map(\.modelID)), .texts(rows.map(\.providerID)), .bools(rows.map(\.success)),
                .reals(rows.map(\.costUSD)), .integers(rows.map(\.latencyMs)), .reals(rows.map(\.reward)),
            ])
        return Set(try inserted.map { try $0.text(0) })
    }

    static func appendPoints(_ points: [TimeSeriesPoint], _ sql: SQL) async throws {
        guard !points.isEmpty else { return }
        try await sql.rows("""
            INSERT INTO tsdb_points (metric, model_id, provider_id, time_unix_ms, value)
            SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[])
            """, [.texts(points.map(\.metric)), .texts(points.map(\.modelID)), .texts(points.map(\.providerID)),
                  .integers(points.map(\.timeUnixMs)), .reals(points.map(\.value))])
    }

    // MARK: Reads

    static func listLogs(_ page: StoreOperation.Page, filter: LogFilter, _ sql: SQL) async throws -> JSONValue {
        let values: [SQL.Value] = filter.terms.map {
            switch $0.value {
            case .text(let text): .text(text)
            case .integer(let number): .integer(number)
            }
        }
        // The page's two values come first ($1, $2), the filter's after them.
        let rows = try await sql.rows("SELECT \(logColumns) FROM request_logs\(filter.whereClause { "$\($0 + 2)" }) ORDER BY time_unix_ms DESC, request_id LIMIT $1 OFFSET $2",
                                      [.integer(Int64(page.limit)), .integer(Int64(page.offset))] + values)
        let total = try await sql.rows("SELECT COUNT(*) FROM request_logs\(filter.whereClause { "$\($0)" })", values)
        return .object(["rows": .array(try rows.map { try logRow($0).json }), "total": .number(Double(try total.first?.integer(0) ?? 0))])
    }

    static func logRow(_ row: SQL.Row) throws -> RequestLogRow {
        RequestLogRow(requestID: try row.text(0), timeUnixMs: try row.integer(1), apiKeyID: try row.text(2), kind: try row.text(3),
                      mode: try row.text(4), modelID: try row.text(5), providerID: try row.text(6), dispatcher: try row.text(7),
                      estimatedCostUSD: try row.real(8), latencyMs: try row.integer(9), status: try row.text(10), errorClass: try row.text(11))
    }

    static func spend(apiKeyID: String, sinceUnixMs: Int64, _ sql: SQL) async throws -> JSONValue {
        let rows = try await sql.rows("SELECT COALESCE(SUM(estimated_cost_usd), 0)::float8 FROM request_logs WHERE api_key_id = $1 AND time_unix_ms >= $2",
                                      [.text(apiKeyID), .integer(sinceUnixMs)])
        return .object(["usd": .number(try rows.first?.real(0) ?? 0)])
    }

    static func rewardRow(_ row: SQL.Row) throws -> RewardRow {
        RewardRow(requestID: try row.text(0), timeUnixMs: try row.integer(1), apiKeyID: try row.text(2), kind: try row.text(3),
                  mode: try row.text(4), modelID: try row.text(5), providerID: try row.text(6), success: try row.bool(7),
                  costUSD: try row.real(8), latencyMs: try row.integer(9), reward: try row.real(10))
    }

    /// `WHERE` of the reward filters, numbering its parameters from `first`.
    static func rewardFilter(_ filter: RewardFilter, first: Int) -> (clause: String, values: [SQL.Value]) {
        var conditions = ["time_unix_ms >= $\(first)"]
        var values: [SQL.Value] = [.integer(filter.sinceUnixMs)]
        if let modelID = filter.modelID { values.append(.text(modelID)); conditions.append("model_id = $\(first + values.count - 1)") }
        if let mode = filter.mode { values.append(.text(mode)); conditions.append("mode = $\(first + values.count - 1)") }
        return (" WHERE " + conditions.joined(separator: " AND "), values)
    }

    static func listRewards(_ page: StoreOperation.Page, _ filter: RewardFilter, _ sql: SQL) async throws -> JSONValue {
        let (clause, values) = rewardFilter(filter, first: 3)
        let rows = try await sql.rows("SELECT \(rewardColumns) FROM rewards\(clause) ORDER BY time_unix_ms DESC, request_id LIMIT $1 OFFSET $2",
                                      [.integer(Int64(page.limit)), .integer(Int64(page.offset))] + values)
        let (countClause, countValues) = rewardFilter(filter, first: 1)
        let total = try await sql.rows("SELECT COUNT(*) FROM rewards\(countClause)", countValues)
        return .object(["rows": .array(try rows.map { try rewardRow($0).json }), "total": .number(Double(try total.first?.integer(0) ?? 0))])
    }

    static func rewardSummary(_ filter: RewardFilter, _ sql: SQL) async throws -> JSONValue {
        let (clause, values) = rewardFilter(filter, first: 1)
        let rows = try await sql.rows("""
            SELECT model_id, COUNT(*), AVG(reward)::float8, AVG(CASE WHEN success THEN 1 ELSE 0 END)::float8,
                   AVG(latency_ms)::float8, SUM(cost_usd)::float8
            FROM rewards\(clause) GROUP BY model_id ORDER BY model_id
            """, values)
        return .object(["models": .array(try rows.map { row in
            .object([
                "model_id": .string(try row.text(0)), "count": .number(Double(try row.integer(1))), "mean_reward": .number(try row.real(2)),
                "success_rate": .number(try row.real(3)), "mean_latency_ms": .number(try row.real(4)), "total_cost_usd": .number(try row.real(5)),
            ])
        })])
    }

    static func queryPoints(_ query: TimeSeriesQuery, _ sql: SQL) async throws -> JSONValue {
        var conditions = ["metric = $3", "time_unix_ms >= $1", "time_unix_ms < $4"]
        var values: [SQL.Value] = [.integer(query.startUnixMs), .integer(query.stepMs), .text(query.metric), .integer(query.endUnixMs)]
        if let model = query.modelID { values.append(.text(model)); conditions.append("model_id = $\(values.count)") }
        if let provider = query.providerID { values.append(.text(provider)); conditions.append("provider_id = $\(values.count)") }
        let rows = try await sql.rows("""
            SELECT $1 + ((time_unix_ms - $1) / $2) * $2 AS bucket, COUNT(*), SUM(value)::float8, AVG(value)::float8, MIN(value)::float8, MAX(value)::float8
            FROM tsdb_points WHERE \(conditions.joined(separator: " AND ")) GROUP BY bucket ORDER BY bucket
            """, values)
        return .object(["metric": .string(query.metric), "step_ms": .number(Double(query.stepMs)), "points": .array(try rows.map { row in
            .object(["time_unix_ms": .number(Double(try row.integer(0))), "count": .number(Double(try row.integer(1))),
                     "sum": .number(try row.real(2)), "avg": .number(try row.real(3)), "min": .number(try row.real(4)), "max": .number(try row.real(5))])
        })])
    }

    // MARK: Keys, registry, settings, audit

    static func keyRecord(_ row: SQL.Row) throws -> APIKeyRecord {
        APIKeyRecord(id: try row.text(0), name: try row.text(1), keyHash: try row.text(2), keyPrefix: try row.text(3),
                     scopes: try row.text(4).split(separator: ",").map(String.init), enabled: try row.bool(5),
                     expiresUnixMs: try row.integer(6), monthlyBudgetUSD: try row.real(7), rateLimitRPS: try row.real(8),
                     createdUnixMs: try row.integer(9), rotatedUnixMs: try row.integer(10))
    }

    static func keyValues(_ record: APIKeyRecord) -> [SQL.Value] {
        [.text(record.id), .text(record.name), .text(record.keyHash), .text(record.keyPrefix), .text(record.scopes.joined(separator: ",")),
         .bool(record.enabled), .integer(record.expiresUnixMs), .real(record.monthlyBudgetUSD), .real(record.rateLimitRPS),
         .integer(record.createdUnixMs), .integer(record.rotatedUnixMs)]
    }

    /// Counts a change to keys, the registry or settings (`store.revision`).
    static func bumpRevision(_ sql: SQL) async throws {
        try await sql.rows("UPDATE store_revision SET revision = revision + 1")
    }

    static func createKey(_ record: APIKeyRecord, _ sql: SQL) async throws -> Bool {
        let created = try await sql.rows("""
            INSERT INTO api_keys (\(keyColumns)) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING RETURNING 1
            """, keyValues(record))
        if !created.isEmpty { try await bumpRevision(sql) }
        return !created.isEmpty
    }

    static func updateKey(_ record: APIKeyRecord, _ sql: SQL) async throws -> Bool {
        let updated = try await sql.rows("""
            UPDATE api_keys SET name = $2, key_hash = $3, key_prefix = $4, scopes = $5, enabled = $6, expires_unix_ms = $7,
              monthly_budget_usd = $8, rate_limit_rps = $9, created_unix_ms = $10, rotated_unix_ms = $11 WHERE id = $1 RETURNING 1
            """, keyValues(record))
        if !updated.isEmpty { try await bumpRevision(sql) }
        return !updated.isEmpty
    }

    static func deleteKey(id: String, _ sql: SQL) async throws -> Bool {
        let deleted = try await sql.rows("DELETE FROM api_keys WHERE id = $1 RETURNING 1", [.text(id)])
        if !deleted.isEmpty { try await bumpRevision(sql) }
        return !deleted.isEmpty
    }

    static func getKey(column: String, value: String, _ sql: SQL) async throws -> JSONValue {
        let rows = try await sql.rows("SELECT \(keyColumns) FROM api_keys WHERE \(column) = $1", [.text(value)])
        return .object(["key": try rows.first.map { try keyRecord($0).json(includingHash: true) } ?? .null])
    }

    static func listKeys(_ sql: SQL) async throws -> JSONValue {
        let rows = try await sql.rows("SELECT \(keyColumns) FROM api_keys ORDER BY created_unix_ms, id")
        return .object(["keys": .array(try rows.map { try keyRecord($0).json(includingHash: false) })])
    }

    static func upsert(_ table: RegistryTable, id: String, record: JSONValue, onlyIfAbsent: Bool, _ sql: SQL) async throws -> Bool {
        let conflict = onlyIfAbsent ? "DO NOTHING" : "DO UPDATE SET record = EXCLUDED.record, updated_unix_ms = EXCLUDED.updated_unix_ms"
        let stored = try await sql.rows("""
            INSERT INTO \(table.rawValue) (id, record, updated_unix_ms) VALUES ($1, $2, $3) ON CONFLICT (id) \(conflict) RETURNING 1
            """, [.text(id), .text(record.serializedString), .integer(nowMs())])
        if !stored.isEmpty { try await bumpRevision(sql) }
        return !stored.isEmpty
    }

    static func listRecords(_ table: RegistryTable, after: String = "", limit: Int = Int(Int32.max), _ sql: SQL) async throws -> [(String, JSONValue)] {
        let rows = try await sql.rows("SELECT id, record FROM \(table.rawValue) WHERE id > $1 ORDER BY id LIMIT $2", [.text(after), .integer(Int64(limit))])
        var records: [(String, JSONValue)] = []
        for row in rows {
            if let record = try? JSONValue.parse(try row.text(1)) { records.append((try row.text(0), record)) }
        }
        return records
    }

    static func deleteRecord(_ table: RegistryTable, id: String, _ sql: SQL) async throws -> Bool {
        let deleted = try await sql.rows("DELETE FROM \(table.rawValue) WHERE id = $1 RETURNING 1", [.text(id)])
        if !deleted.isEmpty { try await bumpRevision(sql) }
        return !deleted.isEmpty
    }

    static func getSetting(_ key: String, _ sql: SQL) async throws -> JSONValue? {
        let rows = try await sql.rows("SELECT value FROM settings WHERE key = $1", [.text(key)])
        guard let row = rows.first else { return nil }
        return try? JSONValue.parse(try row.text(0))
    }

    static func putSetting(_ key: String, _ value: JSONValue, onlyIfAbsent: Bool = false, _ sql: SQL) async throws -> Bool {
        let conflict = onlyIfAbsent ? "DO NOTHING" : "DO UPDATE SET value = EXCLUDED.value, updated_unix_ms = EXCLUDED.updated_unix_ms"
        let stored = try await sql.rows("""
            INSERT INTO settings (key, value, updated_unix_ms) VALUES ($1, $2, $3) ON CONFLICT (key) \(conflict) RETURNING 1
            """, [.text(key), .text(value.serializedString), .integer(nowMs())])
        if !stored.isEmpty { try await bumpRevision(sql) }
        return !stored.isEmpty
    }

    static func appendAudit(_ rows: [AuditRow], _ sql: SQL) async throws {
        guard !rows.isEmpty else { return }
        try await sql.rows("""
            INSERT INTO audit_logs (time_unix_ms, request_id, action, resource, detail)
            SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
            """, [.integers(rows.map(\.timeUnixMs)), .texts(rows.map(\.requestID)), .texts(rows.map(\.action)),
                  .texts(rows.map(\.resource)), .texts(rows.map(\.detail))])
    }

    static func listAudit(_ page: StoreOperation.Page, _ sql: SQL) async throws -> JSONValue {
        let rows = try await sql.rows("SELECT time_unix_ms, request_id, action, resource, detail FROM audit_logs ORDER BY seq DESC LIMIT $1 OFFSET $2",
                                      [.integer(Int64(page.limit)), .integer(Int64(page.offset))])
        return .object(["rows": .array(try rows.map { row in
            AuditRow(timeUnixMs: try row.integer(0), requestID: try row.text(1), action: try row.text(2), resource: try row.text(3), detail: try row.text(4)).json
        })])
    }

    // MARK: Budgets

    /// Admits when spend plus the key's other live holds is under the budget, then holds the
    /// estimate. A per-key advisory lock serialises reservations of one key across every
    /// instance; spend and holds are read in one statement, so a row settling its hold
    /// between two reads cannot hide from both.
    static func reserve(_ hold: BudgetReservation, _ sql: SQL) async throws -> JSONValue {
        try await sql.rows("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text("budget:" + hold.apiKeyID)])
        let totals = try await sql.rows("""
            SELECT (SELECT COALESCE(SUM(estimated_cost_usd), 0)::float8 FROM request_logs WHERE api_key_id = $1 AND time_unix_ms >= $2),
                   (SELECT COALESCE(SUM(amount_usd), 0)::float8 FROM budget_reservations WHERE api_key_id = $1 AND expires_unix_ms > $3 AND request_id <> $4)
            """, [.text(hold.apiKeyID), .integer(hold.sinceUnixMs), .integer(hold.nowUnixMs), .text(hold.requestID)])
        let spent = try totals.first?.real(0) ?? 0, reserved = try totals.first?.real(1) ?? 0
        let admitted = spent + reserved < hold.budgetUSD
        if admitted {
            try await sql.rows("""
                INSERT INTO budget_reservations (request_id, api_key_id, amount_usd, expires_unix_ms) VALUES ($1, $2, $3, $4)
                ON CONFLICT (request_id) DO UPDATE SET amount_usd = EXCLUDED.amount_usd, expires_unix_ms = EXCLUDED.expires_unix_ms
                """, [.text(hold.requestID), .text(hold.apiKeyID), .real(hold.estimateUSD), .integer(hold.expiresUnixMs)])
        }
        try await sql.rows("DELETE FROM budget_reservations WHERE api_key_id = $1 AND expires_unix_ms <= $2", [.text(hold.apiKeyID), .integer(hold.nowUnixMs)])
        return BudgetReservation.answer(admitted: admitted, spentUSD: spent, reservedUSD: reserved)
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
