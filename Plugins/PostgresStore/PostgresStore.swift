import Foundation
import Logging
import NIOSSL
import PluginAPI
import PluginKit
import PostgresNIO
import StoreKit
import Synchronization
import TokenHubCore

/// The PostgreSQL store, on postgres-nio's `PostgresClient` (its pool reconnects with backoff;
/// statements go through the extended protocol with bound parameters). Several gateway
/// instances share one database: migrations take an advisory lock, log rows are written once
/// per request id, and budget holds are serialised per key in the database.
///
/// Log appends are grouped into one transaction per commit window (`LogWriter`); everything
/// else runs on its own leased connection. Every operation is bounded by `timeout_ms`: when
/// the server is unreachable the answer is TOKENHUB_ERR_UNAVAILABLE naming host and port, and
/// the pool keeps trying to reconnect, so recovery needs no restart.
final class PostgresStore: OperationStore {
    private let host: HostTable
    private let settings: PostgresSettings
    private let logger = Logger(label: "tokenhub.postgres-store", factory: { _ in SwiftLogNoOpLogHandler() })
    private struct Running {
        var client: PostgresClient
        var runTask: Task<Void, Never>
        var writer: LogWriter
    }
    private let running = Mutex<Running?>(nil)
    /// After the server failed to answer, calls fail at once until this instant (one call
    /// then probes), so callers with a fallback (the host's key cache, its row queue) use it
    /// at once instead of each waiting out `timeout_ms`.
    private let downUntil = Mutex<ContinuousClock.Instant?>(nil)
    static let failFastPeriod: Duration = .seconds(1)

    init(host: HostTable, configJSON: [UInt8]) throws {
        self.host = host
        settings = try PostgresSettings(configJSON: configJSON)
    }

    func start() async -> PluginReply {
        var configuration = PostgresClient.Configuration(host: settings.host, port: settings.port, username: settings.user,
                                                         password: settings.password, database: settings.database, tls: .disable)
        switch settings.tls {
        case .disable: configuration.tls = .disable
        case .prefer: configuration.tls = .prefer(.makeClientConfiguration())
        case .require: configuration.tls = .require(.makeClientConfiguration())
        }
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.connectTimeout = settings.timeout
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runTask = Task { await client.run() }
        let server = settings.redacted
        do {
            try await migrate(client)
        } catch {
            guard !settings.required else {
                runTask.cancel()
                return .failure(.internal, "PostgreSQL at \(server): \(Self.describe(error))")
            }
            // `required: false`: serve now (operations answer unavailable, so the host uses its
            // key cache and keeps log rows), and migrate once the server answers.
            host.log(.error, "PostgreSQL at \(server) is unreachable: starting without it and retrying (\(Self.describe(error)))")
            migrated.withLock { $0 = false }
            Task { await self.migrateWhenReachable(client) }
        }
        let writer = LogWriter(window: settings.commitWindow) { [self] appends in
            await self.transaction("writing log rows") { sql in try await LogWriter.writeBatch(appends, sql) }
        }
        running.withLock { $0 = Running(client: client, runTask: runTask, writer: writer) }
        if migrated.withLock({ $0 }) { host.log(.info, "PostgreSQL store ready at \(server) (pool of \(settings.poolSize))") }
        return PluginReply(status: .ok)
    }

    /// Whether the schema is known to be current (false only while `required: false` waits).
    private let migrated = Mutex(true)
    private let stopped = Mutex(false)

    private func migrate(_ client: PostgresClient) async throws {
        let server = settings.redacted
        try await bounded("migrating the schema") {
            try await client.withConnection { connection in
                try await connection.withTransaction(logger: self.logger) { connection in
                    try await PostgresSchema.migrate(SQL(connection: connection, logger: self.logger), server: server)
                }
            }
        }
    }

    private func migrateWhenReachable(_ client: PostgresClient) async {
        var delay: Duration = .milliseconds(500)
        while !stopped.withLock({ $0 }) {
            try? await Task.sleep(for: delay)
            guard !stopped.withLock({ $0 }) else { return }
            do {
                try await migrate(client)
                migrated.withLock { $0 = true }
                host.log(.info, "PostgreSQL store ready at \(settings.redacted) (pool of \(settings.poolSize)), after waiting for the server")
                return
            } catch {
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    func perform(_ operation: StoreOperation) async -> Result<JSONValue, StoreFailure> {
        guard let writer = running.withLock({ $0?.writer }) else { return .failure(StoreFailure("the store is not started", unavailable: true)) }
        switch operation {
        case .appendLog(let row):
            return await writer.append(.results([.init(row: row, reward: nil, points: [])])).map { answer in
                .object(["stored": .bool(answer["stored"] == .number(1))])
            }
        case .appendLogBatch(let items): return await writer.append(.results(items))
        case .appendReward(let row): return await writer.append(.rewards([row]))
        case .appendPoints(let points): return await writer.append(.points(points))
        case .listLogs(let page, let filter): return await query("listing request logs") { sql in try await Operations.listLogs(page, filter: filter, sql) }
        case .spend(let key, let since): return await query("reading spend") { sql in try await Operations.spend(apiKeyID: key, sinceUnixMs: since, sql) }
        case .listRewards(let page, let filter): return await query("listing rewards") { sql in try await Operations.listRewards(page, filter, sql) }
        case .rewardSummary(let filter): return await query("summarising rewards") { sql in try await Operations.rewardSummary(filter, sql) }
        case .queryPoints(let query): return await self.query("querying points") { sql in try await Operations.queryPoints(query, sql) }
        case .prunePoints(let before):
            return await query("pruning points") { sql in
                .object(["deleted": .number(Double(try await sql.rows("DELETE FROM tsdb_points WHERE time_unix_ms < $1 RETURNING 1", [.integer(before)]).count))])
            }
        case .upsertRecord(let table, let id, let record, let onlyIfAbsent):
            return await transaction("storing a record") { sql in
                .object(["stored": .bool(try await Operations.upsert(table, id: id, record: record, onlyIfAbsent: onlyIfAbsent, sql))])
            }
        case .listRecords(let table):
            return await query("listing records") { sql in .object(["records": .array(try await Operations.listRecords(table, sql).map(\.1))]) }
        case .deleteRecord(let table, let id):
            return await transaction("deleting a record") { sql in .object(["deleted": .bool(try await Operations.deleteRecord(table, id: id, sql))]) }
        case .getRoutingConfig:
            return await query("reading the routing config") { sql in .object(["value": try await Operations.getSetting("routing", sql) ?? .null]) }
        case .putRoutingConfig(let value):
            return await transaction("storing the routing config") { sql in
                _ = try await Operations.putSetting("routing", value, sql)
                return .object(["stored": .bool(true)])
            }
        case .createKey(let record):
            return await transaction("creating a key") { sql in .object(["created": .bool(try await Operations.createKey(record, sql))]) }
        case .updateKey(let record):
            return await transaction("updating a key") { sql in .object(["updated": .bool(try await Operations.updateKey(record, sql))]) }
        case .deleteKey(let id):
            return await transaction("deleting a key") { sql in .object(["deleted": .bool(try await Operations.deleteKey(id: id, sql))]) }
        case .getKey(let id): return await query("reading a key") { sql in try await Operations.getKey(column: "id", value: id, sql) }
        case .getKeyByHash(let hash): return await query("checking a key") { sql in try await Operations.getKey(column: "key_hash", value: hash, sql) }
        case .listKeys: return await query("listing keys") { sql in try await Operations.listKeys(sql) }
        case .appendAudit(let row):
            return await query("appending to the audit log") { sql in
                try await Operations.appendAudit([row], sql)
                return .object(["stored": .bool(true)])
            }
        case .listAudit(let page): return await query("listing the audit log") { sql in try await Operations.listAudit(page, sql) }
        case .reserveBudget(let hold): return await transaction("reserving budget") { sql in try await Operations.reserve(hold, sql) }
        case .releaseBudget(let requestID):
            return await query("releasing a budget hold") { sql in
                .object(["released": .bool(!(try await sql.rows("DELETE FROM budget_reservations WHERE request_id = $1 RETURNING 1", [.text(requestID)])).isEmpty)])
            }
        case .revision:
            return await query("reading the revision") { sql in
                .object(["revision": .number(Double(try await sql.rows("SELECT revision FROM store_revision").first?.integer(0) ?? 0))])
            }
        case .export(let kind, let after, let limit):
            return await query("exporting \(kind.rawValue)") { sql in try await StoreCopy.export(kind, after: after, limit: limit, sql) }
        case .importRows(let kind, let source, let cursor, let batch):
            return await transaction("importing \(kind.rawValue)") { sql in
                try await StoreCopy.importRows(kind, source: source, cursor: cursor, batch: batch, sql)
            }
        case .copyProgress(let kind, let source):
            return await query("reading copy progress") { sql in try await StoreCopy.progress(kind, source: source, sql) }
        }
    }

    func stop() async {
        stopped.withLock { $0 = true }
        guard let state = running.withLock({ $0 }) else { return }
        // The host flushed its queue before stop; appends still in a window finish first.
        _ = await state.writer.append(.points([]))
        state.runTask.cancel()
        await state.runTask.value
        running.withLock { $0 = nil }
    }

    // MARK: Running statements

    /// Runs `body` on a leased connection, bounded by the timeout.
    private func query<T: Sendable>(_ what: String, _ body: @escaping @Sendable (SQL) async throws -> T) async -> Result<T, StoreFailure> {
        guard let client = running.withLock({ $0?.client }) else { return .failure(StoreFailure("the store is stopped", unavailable: true)) }
        let now = ContinuousClock.now
        guard migrated.withLock({ $0 }) else {
            return .failure(StoreFailure("\(what) at \(settings.redacted): not connected yet (required: false); retrying", unavailable: true))
        }
        let skip = downUntil.withLock { until in
            guard let end = until, now < end else { return false }
            return true
        }
        if skip { return .failure(StoreFailure("\(what) at \(settings.redacted): the server did not answer just before; retrying shortly", unavailable: true)) }
        do {
            let value = try await bounded(what) {
                try await client.withConnection { connection in try await body(SQL(connection: connection, logger: self.logger)) }
            }
            downUntil.withLock { $0 = nil }
            return .success(value)
        } catch {
            let failure = failure(what, error)
            if failure.unavailable { downUntil.withLock { $0 = .now + Self.failFastPeriod } }
            return .failure(failure)
        }
    }

    /// Runs `body` in a transaction on a leased connection, bounded by the timeout.
    private func transaction<T: Sendable>(_ what: String, _ body: @escaping @Sendable (SQL) async throws -> T) async -> Result<T, StoreFailure> {
        await query(what) { sql in
            try await sql.connection.withTransaction(logger: self.logger) { connection in try await body(SQL(connection: connection, logger: self.logger)) }
        }
    }

    /// `body`, or a timeout error once `timeout_ms` passed. The body runs in a task of its own
    /// that is cancelled, not awaited, on timeout: a lease or query stuck on a dead connection
    /// must not hold the caller (a task group would wait for it).
    private func bounded<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = settings.timeout
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            let answer = FirstAnswer(continuation)
            let work = Task {
                do { answer.give(.success(try await body())) } catch { answer.give(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if answer.give(.failure(StoreFailure("no answer within \(Int(timeout.totalMilliseconds)) ms", unavailable: true))) { work.cancel() }
            }
        }
        return try result.get()
    }

    private func failure(_ what: String, _ error: any Error) -> StoreFailure {
        if let failure = error as? StoreFailure {
            return StoreFailure("\(what) at \(settings.redacted): \(failure.message)", unavailable: failure.unavailable)
        }
        let unavailable = (error as? PSQLError).map { $0.code != .server } ?? true
        return StoreFailure("\(what) at \(settings.redacted): \(Self.describe(error))", unavailable: unavailable)
    }

    /// A readable cause: the server's message and SQLSTATE, or the connection failure. PSQLError's
    /// own description hides both (to keep queries out of logs); neither carries the password.
    static func describe(_ error: any Error) -> String {
        if let failure = error as? StoreFailure { return failure.message }
        if let transaction = error as? PostgresTransactionError {
            return describe(transaction.closureError ?? transaction.commitError ?? transaction.beginError ?? transaction.rollbackError ?? error)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo, let message = info[.message] {
            return "\(message) (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}

/// Resumes a continuation with the first of several racing answers.
final class FirstAnswer<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Result<T, any Error>, Never>?>
    init(_ continuation: CheckedContinuation<Result<T, any Error>, Never>) { self.continuation = Mutex(continuation) }
    /// Resumes with `result` if nothing answered yet; returns whether it did.
    @discardableResult
    func give(_ result: Result<T, any Error>) -> Bool {
        guard let waiting = continuation.withLock({ $0.take() }) else { return false }
        waiting.resume(returning: result)
        return true
    }
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "postgres", version: "0.1.0", store: PostgresStore.self)
}
