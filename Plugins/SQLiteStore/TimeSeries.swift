import TokenHubCore

/// The `tsdb.*` operations: points `(metric, model, provider, time, value)`, queried in
/// fixed steps and pruned by age.
enum TimeSeries {
    struct Point {
        var metric, modelID, providerID: String
        var timeUnixMs: Int64
        var value: Double

        init(json: JSONValue) throws(PayloadError) {
            let fields = try PayloadFields(json, path: "")
            metric = try fields.requiredString("metric")
            guard !metric.isEmpty else { throw PayloadError("metric: must not be empty") }
            modelID = try fields.string("model_id")
            providerID = try fields.string("provider_id")
            timeUnixMs = Int64(try fields.int("time_unix_ms", default: 0))
            value = try fields.double("value", default: 0)
            guard value.isFinite else { throw PayloadError("value: expected a finite number") }
        }
    }

    static func append(_ points: [Point], on connection: SQLiteConnection) throws(SQLiteError) {
        let statement = try connection.prepare("INSERT INTO tsdb_points (metric, model_id, provider_id, time_unix_ms, value) VALUES (?,?,?,?,?)")
        defer { statement.reset() }
        for point in points {
            try statement.bind([.text(point.metric), .text(point.modelID), .text(point.providerID), .integer(point.timeUnixMs), .real(point.value)])
            _ = try statement.step()
            statement.reset()
        }
    }

    /// A query: one metric over `[start, end)` in buckets of `step` ms, optionally one model
    /// or provider.
    struct Query {
        var metric: String
        var modelID: String?
        var providerID: String?
        var startUnixMs, endUnixMs, stepMs: Int64

        /// At most this many buckets per query, so a tiny step cannot ask for millions.
        static let maxBuckets: Int64 = 10_000

        init(_ fields: PayloadFields) throws(PayloadError) {
            metric = try fields.requiredString("metric")
            modelID = fields["model_id"] == nil ? nil : try fields.string("model_id")
            providerID = fields["provider_id"] == nil ? nil : try fields.string("provider_id")
            startUnixMs = Int64(try fields.int("start_unix_ms", default: 0))
            endUnixMs = Int64(try fields.int("end_unix_ms", default: 0))
            stepMs = Int64(try fields.int("step_ms", default: 60_000))
            guard endUnixMs > startUnixMs else { throw PayloadError("end_unix_ms: must be after start_unix_ms") }
            guard stepMs > 0 else { throw PayloadError("step_ms: expected a positive number of milliseconds") }
            guard (endUnixMs - startUnixMs) / stepMs <= Self.maxBuckets else {
                throw PayloadError("step_ms: \(stepMs) ms gives more than \(Self.maxBuckets) buckets over the range; use a larger step")
            }
        }
    }

    /// Buckets with points, oldest first: `{time_unix_ms (bucket start), count, sum, avg, min, max}`.
    static func query(_ query: Query, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
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
