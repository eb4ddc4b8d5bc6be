/// The store's schema as numbered migrations, the same tables as SQLiteStore's in
/// PostgreSQL's types; `tokenhub_schema.version` records how many ran. Append new
/// migrations; never edit one that has shipped.
enum PostgresSchema {
    static let migrations: [String] = [
        // 1: request logs, one row per request id.
        """
        CREATE TABLE request_logs (
            request_id TEXT PRIMARY KEY,
            time_unix_ms BIGINT NOT NULL,
            api_key_id TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            mode TEXT NOT NULL,
            model_id TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            dispatcher TEXT NOT NULL,
            estimated_cost_usd DOUBLE PRECISION NOT NULL,
            latency_ms BIGINT NOT NULL,
            status TEXT NOT NULL,
            error_class TEXT NOT NULL
        );
        CREATE INDEX request_logs_by_time ON request_logs(time_unix_ms);
        CREATE INDEX request_logs_by_key_time ON request_logs(api_key_id, time_unix_ms);
        """,
        // 2: API keys (only the SHA-256 of a key is kept) and the admin audit trail.
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            key_prefix TEXT NOT NULL,
            scopes TEXT NOT NULL,
            enabled BOOLEAN NOT NULL,
            expires_unix_ms BIGINT NOT NULL,
            monthly_budget_usd DOUBLE PRECISION NOT NULL,
            rate_limit_rps DOUBLE PRECISION NOT NULL,
            created_unix_ms BIGINT NOT NULL,
            rotated_unix_ms BIGINT NOT NULL
        );
        CREATE TABLE audit_logs (
            seq BIGSERIAL PRIMARY KEY,
            time_unix_ms BIGINT NOT NULL,
            request_id TEXT NOT NULL,
            action TEXT NOT NULL,
            resource TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """,
        // 3: one reward entry per request id, and time-series points.
        """
        CREATE TABLE rewards (
            request_id TEXT PRIMARY KEY,
            time_unix_ms BIGINT NOT NULL,
            api_key_id TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            mode TEXT NOT NULL,
            model_id TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            success BOOLEAN NOT NULL,
            cost_usd DOUBLE PRECISION NOT NULL,
            latency_ms BIGINT NOT NULL,
            reward DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX rewards_by_time ON rewards(time_unix_ms);
        CREATE INDEX rewards_by_model_time ON rewards(model_id, time_unix_ms);
        CREATE TABLE tsdb_points (
            seq BIGSERIAL PRIMARY KEY,
            metric TEXT NOT NULL,
            model_id TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            time_unix_ms BIGINT NOT NULL,
            value DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX tsdb_points_by_metric_time ON tsdb_points(metric, time_unix_ms);
        """,
        // 4: the registry (the host's JSON records, opaque here) and settings.
        """
        CREATE TABLE registry_providers (id TEXT PRIMARY KEY, record TEXT NOT NULL, updated_unix_ms BIGINT NOT NULL);
        CREATE TABLE registry_models (id TEXT PRIMARY KEY, record TEXT NOT NULL, updated_unix_ms BIGINT NOT NULL);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_unix_ms BIGINT NOT NULL);
        """,
        // 5: holds on key budgets for requests in flight, the revision counter other instances
        // watch, and how far `store copy` got per source and kind.
        """
        CREATE TABLE budget_reservations (
            request_id TEXT PRIMARY KEY,
            api_key_id TEXT NOT NULL,
            amount_usd DOUBLE PRECISION NOT NULL,
            expires_unix_ms BIGINT NOT NULL
        );
        CREATE INDEX budget_reservations_by_key ON budget_reservations(api_key_id);
        CREATE TABLE store_revision (revision BIGINT NOT NULL);
        INSERT INTO store_revision VALUES (0);
        CREATE TABLE copy_progress (source TEXT NOT NULL, kind TEXT NOT NULL, cursor TEXT NOT NULL, PRIMARY KEY (source, kind));
        """,
    ]

    /// An arbitrary, fixed key for the advisory lock that serialises migrations: instances
    /// starting at once take turns, and each finds the work of the one before it done.
    static let migrationLock: Int64 = 0x746F_6B65_6E68_7562  // "tokenhub"

    /// Brings the database to the latest version in one transaction, under the advisory lock.
    static func migrate(_ sql: SQL, server: String) async throws {
        try await sql.rows("SELECT pg_advisory_xact_lock($1)", [.integer(migrationLock)])
        try await sql.rows("CREATE TABLE IF NOT EXISTS tokenhub_schema (version INTEGER NOT NULL)")
        var current = try await sql.rows("SELECT version FROM tokenhub_schema").first.map { Int(try $0.integer(0)) }
        if current == nil {
            try await sql.rows("INSERT INTO tokenhub_schema VALUES (0)")
            current = 0
        }
        let version = current ?? 0
        guard version <= migrations.count else {
            throw StoreFailureText("database \(server) has schema version \(version), newer than this plugin's \(migrations.count)")
        }
        for index in version..<migrations.count {
            for statement in migrations[index].split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                try await sql.rows(statement)
            }
        }
        try await sql.rows("UPDATE tokenhub_schema SET version = $1", [.integer(Int64(migrations.count))])
    }
}

/// An error whose text is the whole message.
struct StoreFailureText: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
