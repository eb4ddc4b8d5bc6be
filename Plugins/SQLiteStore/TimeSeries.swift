import StoreKit
import TokenHubCore

/// The `tsdb.*` operations: points `(metric, model, provider, time, value)`, queried in
/// fixed steps and pruned by age.
enum TimeSeries {
    static func append(_ points: [TimeSeriesPoint], on connection: SQLiteConnection) throws(SQLiteError) {
        let statement = try connection.prepare("INSERT INTO tsdb_points (metric, model_id, provider_id, time_unix_ms, value) VALUES (?,?,?,?,?)")
        defer { statement.reset() }
        for point in points {
            try statement.bind([.text(point.metric), .text(point.modelID), .text(point.providerID), .integer(point.timeUnixMs), .real(point.value)])
            _ = try statement.step()
            statement.reset()
        }
    }

    /// Buckets with points, oldest first: `{time_unix_ms (bucket start), count, sum, avg, min, max}`.
    static func query(_ query: TimeSeriesQuery, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        var conditions = ["metric = ?", "time_unix_ms >= ?", "time_unix_ms < ?"]
        var filters: [SQLiteConnection.Value] = [.text(query.metric), .integer(query.startUnixMs), .integer(query.endUnixMs)]
        if let model = query.modelID { conditions.append("model_id = ?"); filters.append(.text(model)) }
        if let provider = query.providerID { conditions.append("provider_id = ?"); filters.append(.text(provider)) }
        let statement = try connection.prepare("""
            SELECT ? + ((time_unix_ms - ?) / ?) * ? AS bucket, COUNT(*), SUM(value), AVG(value), MIN(value), MAX(value)
            FROM tsdb_points WHERE \(conditions.joined(separator: " AND "))
            GROUP BY bucket ORDER BY bucket
            """)
        defer { statement.reset() }
        let bucket: [SQLiteConnection.Value] = [.integer(query.startUnixMs), .integer(query.startUnixMs), .integer(query.stepMs), .integer(query.stepMs)]
        try statement.bind(bucket + filters)
        var buckets: [JSONValue] = []
        while try statement.step() {
            buckets.append(.object([
                "time_unix_ms": .number(Double(statement.integer(0))), "count": .number(Double(statement.integer(1))),
                "sum": .number(statement.real(2)), "avg": .number(statement.real(3)),
                "min": .number(statement.real(4)), "max": .number(statement.real(5)),
            ]))
        }
        return .object(["metric": .string(query.metric), "step_ms": .number(Double(query.stepMs)), "points": .array(buckets)])
    }

    /// Deletes points older than `beforeUnixMs`.
    static func prune(beforeUnixMs: Int64, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("DELETE FROM tsdb_points WHERE time_unix_ms < ?")
        defer { statement.reset() }
        try statement.bind([.integer(beforeUnixMs)])
        _ = try statement.step()
        return .object(["deleted": .number(Double(connection.changes))])
    }
}
