import Foundation
import TokenHubCore

/// Checks a reply against the request's `output_schema`: the JSON Schema keywords type,
/// properties, required, items, enum and additionalProperties: false. Returns the first
/// violation with its path, or nil.
enum OutputSchemaValidator {
    static func violation(of schema: JSONValue, in reply: String) -> String? {
        var text = reply.trimmingCharacters(in: .whitespacesAndNewlines)
        // Models often wrap JSON in a Markdown fence.
        if text.hasPrefix("```") {
            text = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
                .filter { !$0.hasPrefix("```") }.joined(separator: "\n")
        }
        guard let value = try? JSONValue.parse(text) else {
            return "the reply is not JSON"
        }
        return violation(of: schema, value, at: "$")
    }

    static func violation(of schema: JSONValue, _ value: JSONValue, at path: String) -> String? {
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) { return "\(path): not one of the enum values" }
        if let type = schema["type"]?.stringValue, !matches(type, value) { return "\(path): expected \(type), got \(value.typeName)" }
        if case .object(let members) = value {
            for required in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[required] == nil {
                return "\(path).\(required): required"
            }
            let properties = schema["properties"]?.objectValue ?? [:]
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let sub = properties[key] {
                    if let problem = violation(of: sub, member, at: "\(path).\(key)") { return problem }
                } else if schema["additionalProperties"] == .bool(false) {
                    return "\(path).\(key): not allowed"
                }
            }
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                if let problem = violation(of: items, element, at: "\(path)[\(index)]") { return problem }
            }
        }
        return nil
    }

    private static func matches(_ type: String, _ value: JSONValue) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number): true
        case ("integer", .number(let number)): number.rounded() == number
        default: false
        }
    }
}
