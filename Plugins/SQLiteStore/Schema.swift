/// The store's schema as numbered migrations; `PRAGMA user_version` records how many ran.
/// Append new migrations; never edit one that has shipped.
enum Schema {
    static let migrations: [String] = [
        // 1: request logs, one row per request id.
        """
        CREATE TABLE request_logs (
            request_id TEXT PRIMARY KEY,
            time_unix_ms INTEGER NOT NULL,
            api_key_id TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            mode TEXT NOT NULL,
            model_id TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            dispatcher TEXT NOT NULL,
            estimated_cost_usd REAL NOT NULL,
            latency_ms INTEGER NOT NULL,
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
            enabled INTEGER NOT NULL,
            expires_unix_ms INTEGER NOT NULL,
            monthly_budget_usd REAL NOT NULL,
            rate_limit_rps REAL NOT NULL,
            created_unix_ms INTEGER NOT NULL,
            rotated_unix_ms INTEGER NOT NULL
        );
        CREATE TABLE audit_logs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            time_unix_ms INTEGER NOT NULL,
            request_id TEXT NOT NULL,
            action TEXT NOT NULL,
            resource TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """,
        // 3: one reward entry per request id, and time-series points (latency, cost, tokens,
        // errors per model and provider) kept until pruned by retention.
        """
        CREATE TABLE rewards (
            request_id TEXT PRIMARY KEY,
            time_unix_ms INTEGER NOT NULL,
            api_key_id TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            mode TEXT NOT NULL,
            model_id TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            success INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            latency_ms INTEGER NOT NULL,
            reward REAL NOT NULL
        );
        CREATE INDEX rewards_by_time ON rewards(time_unix_ms);
        CREATE INDEX rewards_by_model_time ON rewards(model_id, time_unix_ms);
        CREATE TABLE tsdb_points (
            metric TEXT NOT NULL,
            model_id TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            time_unix_ms INTEGER NOT NULL,
            value REAL NOT NULL
        );
        CREATE INDEX tsdb_points_by_metric_time ON tsdb_points(metric, time_unix_ms);
        """,
        // 4: the registry (providers and models as the host's JSON records) and settings
        // such as the routing config. Records are opaque to the store: the host validates them.
        """
        CREATE TABLE registry_providers (id TEXT PRIMARY KEY, record TEXT NOT NULL, updated_unix_ms INTEGER NOT NULL);
        CREATE TABLE registry_models (id TEXT PRIMARY KEY, record TEXT NOT NULL, updated_unix_ms INTEGER NOT NULL);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_unix_ms INTEGER NOT NULL);
        """,
        // 5: holds on key budgets for requests in flight, a revision counter other instances
        // watch for key, registry and settings changes, and how far `store copy` got per
        // source and kind.
        """
        CREATE TABLE budget_reservations (
            request_id TEXT PRIMARY KEY,
            api_key_id TEXT NOT NULL,
            amount_usd REAL NOT NULL,
            expires_unix_ms INTEGER NOT NULL
        );
        CREATE INDEX budget_reservations_by_key ON budget_reservations(api_key_id);
        CREATE TABLE store_revision (revision INTEGER NOT NULL);
        INSERT INTO store_revision VALUES (0);
        CREATE TABLE copy_progress (source TEXT NOT NULL, kind TEXT NOT NULL, cursor TEXT NOT NULL, PRIMARY KEY (source, kind));
        """,
    ]

    /// Brings the database to the latest version, one transaction per migration.
    static func migrate(_ connection: SQLiteConnection) throws(SQLiteError) {
        let statement = try connection.prepare("PRAGMA user_version")
        let current = try statement.step() ? Int(statement.integer(0)) : 0
        statement.reset()
        guard current <= migrations.count else {
            throw SQLiteError(message: "database \(connection.path) has schema version \(current), newer than this plugin's \(migrations.count)")
        }
        for version in current..<migrations.count {
            // Another process may have migrated since the read above (two instances starting
            // on one file): under the write lock, read again and skip what it did.
            try connection.execute("BEGIN IMMEDIATE")
            let done = try statement.step() ? Int(statement.integer(0)) : 0
            statement.reset()
            if done > version {
                try connection.execute("COMMIT")
                continue
            }
            do {
                try connection.execute("\(migrations[version]); PRAGMA user_version = \(version + 1); COMMIT;")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }
}
