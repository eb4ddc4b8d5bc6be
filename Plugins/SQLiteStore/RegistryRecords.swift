import Foundation
import StoreKit
import TokenHubCore

/// The `provider.*`, `model.*` and `routing_config.*` operations. Records are JSON objects
/// with an `id`, stored as text: the host validates them, the store only keeps them.
enum RegistryRecords {
    /// `{record, only_if_absent}` → `{stored}`: insert or replace, or (seeding from config)
    /// insert only when the id is new, so admin changes survive a restart.
    static func upsert(_ table: RegistryTable, record: JSONValue, onlyIfAbsent: Bool, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let id = record["id"]?.stringValue ?? ""
        let verb = onlyIfAbsent ? "INSERT OR IGNORE" : "INSERT OR REPLACE"
        let statement = try connection.prepare("\(verb) INTO \(table.rawValue) (id, record, updated_unix_ms) VALUES (?, ?, ?)")
        defer { statement.reset() }
        try statement.bind([.text(id), .text(record.serializedString), .integer(nowMs())])
        _ = try statement.step()
        let changed = connection.changes
        if changed > 0 { try Budgets.bumpRevision(on: connection) }
        return .object(["stored": .bool(changed == 1)])
    }

    static func list(_ table: RegistryTable, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT record FROM \(table.rawValue) ORDER BY id")
        defer { statement.reset() }
        var records: [JSONValue] = []
        while try statement.step() {
            if let record = try? JSONValue.parse(statement.text(0)) { records.append(record) }
        }
        return .object(["records": .array(records)])
    }

    static func delete(_ table: RegistryTable, id: String, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("DELETE FROM \(table.rawValue) WHERE id = ?")
        defer { statement.reset() }
        try statement.bind([.text(id)])
        _ = try statement.step()
        let changed = connection.changes
        if changed > 0 { try Budgets.bumpRevision(on: connection) }
        return .object(["deleted": .bool(changed == 1)])
    }

    static func getSetting(_ key: String, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("SELECT value FROM settings WHERE key = ?")
        defer { statement.reset() }
        try statement.bind([.text(key)])
        guard try statement.step(), let value = try? JSONValue.parse(statement.text(0)) else { return .object(["value": .null]) }
        return .object(["value": value])
    }

    static func putSetting(_ key: String, value: JSONValue, on connection: SQLiteConnection) throws(SQLiteError) -> JSONValue {
        let statement = try connection.prepare("INSERT OR REPLACE INTO settings (key, value, updated_unix_ms) VALUES (?, ?, ?)")
        defer { statement.reset() }
        try statement.bind([.text(key), .text(value.serializedString), .integer(nowMs())])
        _ = try statement.step()
        let changed = connection.changes
        if changed > 0 { try Budgets.bumpRevision(on: connection) }
        return .object(["stored": .bool(true)])
    }

    private static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
