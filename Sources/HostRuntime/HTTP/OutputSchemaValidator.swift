import Foundation
import NIOPosix
import TokenHubCore

/// Checks a reply against the request's `output_schema`: the JSON Schema keywords type,
/// properties, required, items, enum and additionalProperties: false. Returns the first
/// violation with its path, or nil.
///
/// Bounded: schemas are limited when the request is read (`checkSchema`), and a check stops
/// after `workLimit` steps (nodes visited and enum values compared). It runs on NIO's thread
/// pool (`violationOffLoop`), never on an event loop, so a costly check cannot stall other
/// requests.
enum OutputSchemaValidator {
    /// The largest schema accepted, serialized.
    static let maxSchemaBytes = 64 << 10
    /// The most values one `enum` may list.
    static let maxEnumValues = 1000
    /// The deepest nesting of schemas accepted.
    static let maxDepth = 32
    /// The most steps one check may take.
    static let workLimit = 2_000_000

    /// A schema within the limits, or the reason it is not.
    static func checkSchema(_ schema: JSONValue) -> String? {
        guard schema.serialized.count <= maxSchemaBytes else { return "expected a schema of at most \(maxSchemaBytes) bytes" }
        return checkLimits(schema, depth: 0)
    }

    private static func checkLimits(_ schema: JSONValue, depth: Int) -> String? {
        guard depth <= maxDepth else { return "expected a schema nested at most \(maxDepth) levels deep" }
        switch schema {
        case .object(let members):
            if let values = members["enum"]?.arrayValue, values.count > maxEnumValues {
                return "expected an enum of at most \(maxEnumValues) values, got \(values.count)"
            }
            for value in members.values { if let problem = checkLimits(value, depth: depth + 1) { return problem } }
        case .array(let elements):
            for value in elements { if let problem = checkLimits(value, depth: depth + 1) { return problem } }
        default:
            break
        }
        return nil
    }

    /// `violation(of:in:)` on NIO's thread pool.
    static func violationOffLoop(of schema: JSONValue, in reply: String) async -> String? {
        do {
            return try await NIOThreadPool.singleton.runIfActive { violation(of: schema, in: reply) }
        } catch {
            return "the reply was not checked (\(error))"
        }
    }

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
        var work = workLimit
        return violation(of: schema, value, at: "$", work: &work)
    }

    static func violation(of schema: JSONValue, _ value: JSONValue, at path: String, work: inout Int) -> String? {
        work -= 1
        guard work > 0 else { return "\(path): not checked, the check reached its work limit" }
        if let allowed = schema["enum"]?.arrayValue {
            work -= allowed.count
            if !allowed.contains(value) { return "\(path): not one of the enum values" }
        }
        if let type = schema["type"]?.stringValue, !matches(type, value) { return "\(path): expected \(type), got \(value.typeName)" }
        if case .object(let members) = value {
            for required in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[required] == nil {
                return "\(path).\(required): required"
            }
            let properties = schema["properties"]?.objectValue ?? [:]
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let sub = properties[key] {
                    if let problem = violation(of: sub, member, at: "\(path).\(key)", work: &work) { return problem }
                } else if schema["additionalProperties"] == .bool(false) {
                    return "\(path).\(key): not allowed"
                }
            }
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                if let problem = violation(of: items, element, at: "\(path)[\(index)]", work: &work) { return problem }
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
