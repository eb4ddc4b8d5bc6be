import Foundation
import TokenHubCore

/// Prints answers: aligned tables for people, the server's JSON for scripts (`--json`).
enum Output {
    /// Rows of `columns` (key paths into each object, `a.b` for nested), or the JSON itself.
    static func table(_ rows: [JSONValue], columns: [String], json: Bool, whole: JSONValue) {
        if json { return printJSON(whole) }
        guard !rows.isEmpty else { return print("(none)") }
        let cells = rows.map { row in columns.map { text(value(row, $0)) } }
        let widths = columns.indices.map { index in max(columns[index].count, cells.map { $0[index].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        print(line(columns.map { $0.uppercased() }))
        for row in cells { print(line(row)) }
    }

    /// One object as `key: value` lines, or the JSON itself.
    static func object(_ value: JSONValue, json: Bool) {
        if json { return printJSON(value) }
        guard let members = value.objectValue else { return print(text(value)) }
        let width = members.keys.map(\.count).max() ?? 0
        for key in members.keys.sorted() { print("\(key.padding(toLength: width, withPad: " ", startingAt: 0))  \(text(members[key]!))") }
    }

    /// What a command did to `id`: `{"<action>": id}` in JSON, "<action> <id>" otherwise.
    static func done(_ action: String, _ id: String, json: Bool) {
        if json { printJSON(.object([action: .string(id)])) } else { print("\(action) \(id)") }
    }

    static func printJSON(_ value: JSONValue) {
        print(value.serializedString)
    }

    static func value(_ row: JSONValue, _ path: String) -> JSONValue? {
        path.split(separator: ".").reduce(Optional(row)) { $0?[String($1)] }
    }

    /// A cell: strings as they are, numbers without a needless fraction, lists joined.
    static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "-"
        case .string(let text)?: return text.replacingOccurrences(of: "\n", with: " ")
        case .number(let number)?:
            return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(format: "%.6g", number)
        case .bool(let flag)?: return flag ? "yes" : "no"
        case .array(let items)?: return items.map { text($0) }.joined(separator: ",")
        case let other?: return other.serializedString
        }
    }
}
