import Foundation
import PluginAPI
import PluginKit
import Synchronization
import TokenHubCore

/// The SQLite store: the system libsqlite3 through its C API (no ORM: the schema is small,
/// and the C API lets one writer thread own its connection and commit in groups).
///
/// WAL journal, synchronous=NORMAL, a busy timeout, versioned migrations. One writer thread
/// with group commit and a bounded commit window for log appends (see `DatabaseWorker`), and
/// one reader thread with its own connection: readers never wait for writers, and the request
/// path never waits on a disk sync.
final class SQLiteStore: SwiftStore {
    private let host: HostTable
    private let path: String
    private let busyTimeoutMs: Int32
    private let commitWindow: Duration
    private let workers = Mutex<(writer: DatabaseWorker, reader: DatabaseWorker)?>(nil)

    init(host: HostTable, configJSON: [UInt8]) throws {
        self.host = host
        let config = try JSONValue.parse(configJSON.isEmpty ? Array("{}".utf8) : configJSON)
        let fields = try PayloadFields(config, path: "config")
        if let unknown = config.objectValue?.keys.sorted().first(where: { !["path", "busy_timeout_ms", "commit_window_ms"].contains($0) }) {
            throw PluginError("config.\(unknown): unknown key (SQLiteStore takes path, busy_timeout_ms, commit_window_ms)")
        }
        path = try fields.string("path")
        guard !path.isEmpty else { throw PluginError("config.path: required (the database file, e.g. tokenhub.db)") }
        let timeout = try fields.int("busy_timeout_ms", default: 5000)
        guard (0...600_000).contains(timeout) else { throw PluginError("config.busy_timeout_ms: expected 0 to 600000, got \(timeout)") }
        busyTimeoutMs = Int32(timeout)
        let window = try fields.int("commit_window_ms", default: Self.defaultCommitWindowMs)
        guard (0...1000).contains(window) else { throw PluginError("config.commit_window_ms: expected 0 to 1000, got \(window)") }
        commitWindow = .milliseconds(window)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PluginError("config.path: directory \(directory) does not exist")
        }
    }

    func start() async -> PluginReply {
        do {
            let writer = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMs: busyTimeoutMs)
            try writer.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            try Schema.migrate(writer)
            let reader = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMs: busyTimeoutMs)
            workers.withLock {
                $0 = (DatabaseWorker(name: "sqlite-writer", connection: writer, groupCommit: true, commitWindow: commitWindow),
                      DatabaseWorker(name: "sqlite-reader", connection: reader, groupCommit: false))
            }
            host.log(.info, "SQLite store ready at \(path)")
            return PluginReply(status: .ok)
        } catch {
            return .failure(.internal, error.description)
        }
    }

    func call(operation: String, requestJSON: [UInt8]) async -> PluginReply {
        guard let (writer, reader) = workers.withLock({ $0 }) else { return .failure(.unavailable, "the store is not started") }
        let input: JSONValue
        do {
            input = try JSONValue.parse(requestJSON)
        } catch {
            return .failure(.invalidArgument, "\(operation): input is not JSON: \(error)")
        }
        do throws(PayloadError) {
            switch operation {
            case "request_log.append":
                let row = try RequestLogs.Row(json: input)
                return Self.reply(await writer.run(logRows: 1) { connection throws(SQLiteError) in try RequestLogs.append(row, on: connection) })
            case "request_log.append_batch":
                // Each row may carry its `reward` entry and TSDB `points`; they are written in
                // the same transaction, and only when the row is new, so a retried result
                // never duplicates any of the three.
                guard case .array(let items)? = try PayloadFields(input, path: "")["rows"] else {
                    throw PayloadError("rows: required, expected an array of request log rows")
                }
                var results: [(RequestLogs.Row, Rewards.Row?, [TimeSeries.Point])] = []
                for (index, item) in items.enumerated() {
                    do throws(PayloadError) {
                        let reward = try item["reward"].map { (value) throws(PayloadError) in try Rewards.Row(json: value) }
                        var points: [TimeSeries.Point] = []
                        if let list = item["points"] {
                            guard case .array(let values) = list else { throw PayloadError("points: expected an array") }
                            for (pointIndex, value) in values.enumerated() {
                                do { points.append(try TimeSeries.Point(json: value)) } catch { throw PayloadError("points[\(pointIndex)].\(error.message)") }
                            }
                        }
                        results.append((try RequestLogs.Row(json: item), reward, points))
                    } catch {
                        throw PayloadError("rows[\(index)].\(error.message)")
                    }
                }
                let batch = results
                return Self.reply(await writer.run(logRows: max(1, batch.count)) { connection throws(SQLiteError) in
                    var stored = 0
                    for (row, reward, points) in batch where try RequestLogs.append(row, on: connection)["stored"] == .bool(true) {
                        stored += 1
                        if let reward { _ = try Rewards.append(reward, on: connection) }
                        try TimeSeries.append(points, on: connection)
                    }
                    return JSONValue.object(["stored": .number(Double(stored))])
                })
            case "request_log.list":
                let fields = try PayloadFields(input, path: "")
                let (limit, offset) = try Self.page(fields)
                let key = fields["api_key_id"] == nil ? nil : try fields.string("api_key_id")
                return Self.reply(await reader.run { connection throws(SQLiteError) in
                    try RequestLogs.list(limit: limit, offset: offset, apiKeyID: key, on: connection)
                })
            case "request_log.spend":
                let fields = try PayloadFields(input, path: "")
                let key = try fields.requiredString("api_key_id")
                let since = Int64(try fields.int("since_unix_ms", default: 0))
                return Self.reply(await reader.run { connection throws(SQLiteError) in
                    try RequestLogs.spend(apiKeyID: key, sinceUnixMs: since, on: connection)
                })
            case "reward.append":
                let row = try Rewards.Row(json: input)
                return Self.reply(await writer.run(logRows: 1) { connection throws(SQLiteError) in try Rewards.append(row, on: connection) })
            case "reward.list":
                let fields = try PayloadFields(input, path: "")
                let (limit, offset) = try Self.page(fields)
                let filter = try Rewards.Filter(fields)
                return Self.reply(await reader.run { connection throws(SQLiteError) in
                    try Rewards.list(limit: limit, offset: offset, filter: filter, on: connection)
                })
            case "reward.summary":
                let filter = try Rewards.Filter(try PayloadFields(input, path: ""))
                return Self.reply(await reader.run { connection throws(SQLiteError) in try Rewards.summary(filter: filter, on: connection) })
            case "tsdb.append_batch":
                guard case .array(let items)? = try PayloadFields(input, path: "")["points"] else {
                    throw PayloadError("points: required, expected an array of points")
                }
                var points: [TimeSeries.Point] = []
                for (index, item) in items.enumerated() {
                    do { points.append(try TimeSeries.Point(json: item)) } catch { throw PayloadError("points[\(index)].\(error.message)") }
                }
                let batch = points
                return Self.reply(await writer.run(logRows: max(1, batch.count)) { connection throws(SQLiteError) in
                    try TimeSeries.append(batch, on: connection)
                    return JSONValue.object(["stored": .number(Double(batch.count))])
                })
            case "tsdb.query":
                let query = try TimeSeries.Query(try PayloadFields(input, path: ""))
                return Self.reply(await reader.run { connection throws(SQLiteError) in try TimeSeries.query(query, on: connection) })
            case "tsdb.prune":
                let before = Int64(try PayloadFields(input, path: "").int("before_unix_ms", default: 0))
                guard before > 0 else { throw PayloadError("before_unix_ms: required, a time in ms since 1970") }
                return Self.reply(await writer.run { connection throws(SQLiteError) in try TimeSeries.prune(beforeUnixMs: before, on: connection) })
            case "provider.upsert", "model.upsert":
                let table: RegistryRecords.Table = operation.hasPrefix("provider") ? .providers : .models
                let fields = try PayloadFields(input, path: "")
                guard let record = fields["record"], let id = record["id"]?.stringValue, !id.isEmpty else {
                    throw PayloadError("record: required, an object with a non-empty \"id\"")
                }
                let onlyIfAbsent = try fields.bool("only_if_absent", default: false)
                return Self.reply(await writer.run { connection throws(SQLiteError) in
                    try RegistryRecords.upsert(table, record: record, onlyIfAbsent: onlyIfAbsent, on: connection)
                })
            case "provider.list", "model.list":
                let table: RegistryRecords.Table = operation.hasPrefix("provider") ? .providers : .models
                return Self.reply(await reader.run { connection throws(SQLiteError) in try RegistryRecords.list(table, on: connection) })
            case "provider.delete", "model.delete":
                let table: RegistryRecords.Table = operation.hasPrefix("provider") ? .providers : .models
                let id = try PayloadFields(input, path: "").requiredString("id")
                return Self.reply(await writer.run { connection throws(SQLiteError) in try RegistryRecords.delete(table, id: id, on: connection) })
            case "routing_config.get":
                return Self.reply(await reader.run { connection throws(SQLiteError) in try RegistryRecords.getSetting("routing", on: connection) })
            case "routing_config.put":
                guard let value = try PayloadFields(input, path: "")["value"], case .object = value else {
                    throw PayloadError("value: required, the routing config object")
                }
                return Self.reply(await writer.run { connection throws(SQLiteError) in try RegistryRecords.putSetting("routing", value: value, on: connection) })
            case "apikey.create":
                let record = try APIKeys.Record(json: input)
                return Self.reply(await writer.run { connection throws(SQLiteError) in try APIKeys.create(record, on: connection) })
            case "apikey.update":
                let record = try APIKeys.Record(json: input)
                return Self.reply(await writer.run { connection throws(SQLiteError) in try APIKeys.update(record, on: connection) })
            case "apikey.delete":
                let id = try PayloadFields(input, path: "").requiredString("id")
                return Self.reply(await writer.run { connection throws(SQLiteError) in try APIKeys.delete(id: id, on: connection) })
            case "apikey.get_by_hash":
                let hash = try PayloadFields(input, path: "").requiredString("key_hash")
                // Each read sees every commit completed before it: a revoke is seen at once.
                return Self.reply(await reader.run { connection throws(SQLiteError) in try APIKeys.getByHash(hash, on: connection) })
            case "apikey.get":
                let id = try PayloadFields(input, path: "").requiredString("id")
                return Self.reply(await reader.run { connection throws(SQLiteError) in try APIKeys.get(id: id, on: connection) })
            case "apikey.list":
                return Self.reply(await reader.run { connection throws(SQLiteError) in try APIKeys.list(on: connection) })
            case "audit.append":
                let fields = try PayloadFields(input, path: "")
                _ = try fields.requiredString("action")
                return Self.reply(await writer.run { connection throws(SQLiteError) in try APIKeys.appendAudit(fields, on: connection) })
            case "audit.list":
                let fields = try PayloadFields(input, path: "")
                let (limit, offset) = try Self.page(fields)
                return Self.reply(await reader.run { connection throws(SQLiteError) in try APIKeys.listAudit(limit: limit, offset: offset, on: connection) })
            default:
                return .failure(.notSupported, "unknown operation \"\(operation)\"")
            }
        } catch {
            return .failure(.invalidArgument, "\(operation): \(error.message)")
        }
    }

    func stop() async {
        guard let (writer, reader) = workers.withLock({ $0 }) else { return }
        await writer.shutdown()
        await reader.shutdown()
    }

    /// How long log appends (request logs, rewards, points) may wait for company before their
    /// commit; see `DatabaseWorker`. 5 ms cut the bytes written per logged request from ~42 KB
    /// to ~8 KB at concurrency 1 (bench/store.sh).
    static let defaultCommitWindowMs = 5

    /// `limit` (1 to 1000, default 50) and `offset` (0 or more) of the list operations.
    private static func page(_ fields: PayloadFields) throws(PayloadError) -> (limit: Int, offset: Int) {
        let limit = try fields.int("limit", default: 50), offset = try fields.int("offset", default: 0)
        guard (1...1000).contains(limit) else { throw PayloadError("limit: expected 1 to 1000, got \(limit)") }
        guard offset >= 0 else { throw PayloadError("offset: expected 0 or more, got \(offset)") }
        return (limit, offset)
    }

    private static func reply(_ result: Result<JSONValue, SQLiteError>) -> PluginReply {
        switch result {
        case .success(let value): PluginReply(status: .ok, result: value.serialized)
        case .failure(let error): .failure(.internal, error.description)
        }
    }
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "sqlite", version: "0.1.0", store: SQLiteStore.self)
}
