-- A database as the first release of SQLiteStore left it (schema version 1), with one row.
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
INSERT INTO request_logs VALUES ('from-v1', 1000, 'k1', 'chat', 'normal', 'm', 'p', 'direct', 0.25, 12, 'ok', '');
PRAGMA user_version = 1;
