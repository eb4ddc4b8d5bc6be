import CSQLite

/// An SQLite failure with the database path and SQLite's own message.
struct SQLiteError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// SQLITE_TRANSIENT: SQLite copies bound text before `bind` returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection. Not thread-safe: each `DatabaseWorker` thread owns one.
final class SQLiteConnection {
    let path: String
    private var handle: OpaquePointer?
    /// Prepared statements by SQL text: the hot statements (appends, key lookups) are parsed once.
    private var statements: [String: Statement] = [:]

    init(path: String, readOnly: Bool, busyTimeoutMs: Int32) throws(SQLiteError) {
        self.path = path
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close(handle)
            handle = nil
            throw SQLiteError(message: "cannot open database \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, busyTimeoutMs)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs SQL without results (several statements allowed).
    func execute(_ sql: String) throws(SQLiteError) {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? lastError
            sqlite3_free(error)
            throw SQLiteError(message: "database \(path): \(message)")
        }
    }

    /// Prepares one statement, or returns the cached one (reset by its next `bind`).
    func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw SQLiteError(message: "database \(path): \(lastError)")
        }
        let prepared = Statement(statement, connection: self)
        statements[sql] = prepared
        return prepared
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    /// A prepared statement; finalized when released.
    final class Statement {
        private let statement: OpaquePointer
        private unowned let connection: SQLiteConnection

        init(_ statement: OpaquePointer, connection: SQLiteConnection) {
            self.statement = statement
            self.connection = connection
        }

        deinit { sqlite3_finalize(statement) }

        /// Ends the statement's current run, releasing its read snapshot. Call after every use:
        /// a cached statement left mid-way would pin an old snapshot of the database.
        func reset() {
            sqlite3_reset(statement)
        }

        func bind(_ values: [Value]) throws(SQLiteError) {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                let code = switch value {
                // With its byte length, not -1: a NUL inside the text must not end it there.
                case .text(let text): Self.bindText(statement, index, text)
                case .integer(let number): sqlite3_bind_int64(statement, index, number)
                case .real(let number): sqlite3_bind_double(statement, index, number)
                }
                guard code == SQLITE_OK else { throw SQLiteError(message: "database \(connection.path): \(connection.lastError)") }
            }
        }

        /// Steps once: true when a row is available.
        func step() throws(SQLiteError) -> Bool {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            default: throw SQLiteError(message: "database \(connection.path): \(connection.lastError)")
            }
        }

        func text(_ column: Int32) -> String {
            guard let bytes = sqlite3_column_text(statement, column) else { return "" }
            let count = Int(sqlite3_column_bytes(statement, column))
            return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
        }

        private static func bindText(_ statement: OpaquePointer?, _ index: Int32, _ text: String) -> Int32 {
            var text = text
            return text.withUTF8 { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_text(statement, index, "", 0, transient) }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text(statement, index, $0, Int32(clamping: bytes.count), transient)
                }
            }
        }

        func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

        func real(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
    }

    /// A value to bind.
    enum Value {
        case text(String)
        case integer(Int64)
        case real(Double)
    }
}
