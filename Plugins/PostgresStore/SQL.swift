import Logging
import PostgresNIO
import StoreKit

/// One leased connection and the helpers the operations use on it: parameters bound by
/// position (`$1`…), text escaped for PostgreSQL (see `StoredText`), rows read by column.
struct SQL {
    let connection: PostgresConnection
    let logger: Logger

    /// A bound parameter.
    enum Value {
        case text(String), integer(Int64), real(Double), bool(Bool)
        case texts([String]), integers([Int64]), reals([Double]), bools([Bool])
    }

    /// Runs `sql` with `values` and returns its rows.
    @discardableResult
    func rows(_ sql: String, _ values: [Value] = []) async throws -> [Row] {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): binds.append(StoredText.encode(text))
            case .integer(let number): binds.append(number)
            case .real(let number): binds.append(number)
            case .bool(let flag): binds.append(flag)
            case .texts(let texts): binds.append(texts.map(StoredText.encode))
            case .integers(let numbers): binds.append(numbers)
            case .reals(let numbers): binds.append(numbers)
            case .bools(let flags): binds.append(flags)
            }
        }
        let sequence = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        var rows: [Row] = []
        for try await row in sequence { rows.append(Row(cells: row.makeRandomAccess())) }
        return rows
    }

    /// One result row, read by column index.
    struct Row {
        let cells: PostgresRandomAccessRow
        func text(_ column: Int) throws -> String { StoredText.decode(try cells[column].decode(String.self)) }
        func integer(_ column: Int) throws -> Int64 { try cells[column].decode(Int64.self) }
        func real(_ column: Int) throws -> Double { try cells[column].decode(Double.self) }
        func bool(_ column: Int) throws -> Bool { try cells[column].decode(Bool.self) }
    }
}

/// PostgreSQL's `text` cannot hold U+0000, and the store contract keeps every string whole. A
/// string containing NUL, or starting with the marker U+0001, is stored as the marker followed
/// by the string with U+0001 doubled and NUL written as U+0001 "0". The mapping is injective, so
/// equality filters still work, and every other string is stored as it is.
enum StoredText {
    static let marker: Character = "\u{1}"

    static func encode(_ text: String) -> String {
        guard text.contains("\0") || text.first == marker else { return text }
        var out = String(marker)
        for character in text.unicodeScalars {
            switch character {
            case "\u{1}": out += "\u{1}\u{1}"
            case "\0": out += "\u{1}0"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    static func decode(_ stored: String) -> String {
        guard stored.first == marker else { return stored }
        var out = String.UnicodeScalarView()
        var escaped = false
        for scalar in stored.unicodeScalars.dropFirst() {
            if escaped {
                out.append(scalar == "0" ? "\0" : scalar)
                escaped = false
            } else if scalar == "\u{1}" {
                escaped = true
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
