import Foundation
import TokenHubCore
import Yams

/// A YAML node with the key path that led to it, read with typed accessors whose errors name
/// the path and the line. `${VAR}` and `${VAR:-default}` in scalars expand from the environment.
struct ConfigNode {
    let node: Node
    let keyPath: String
    let source: String
    let environment: [String: String]

    var line: Int { node.mark?.line ?? 0 }
    var column: Int { node.mark?.column ?? 0 }

    func error(_ code: ConfigError.Code, _ message: String) -> ConfigError {
        ConfigError(code, source: source, keyPath: keyPath, line: line, column: column, message: message)
    }

    /// YAML `~`, `null` or an empty value.
    var isNull: Bool {
        if case .scalar(let scalar) = node {
            return (scalar.style == .plain || scalar.style == .any) && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        }
        return false
    }

    private var kindName: String {
        switch node {
        case .scalar: isNull ? "null" : "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a sequence"
        case .alias: "an alias"
        }
    }

    private func child(_ node: Node, key: String) -> ConfigNode {
        ConfigNode(node: node, keyPath: keyPath.isEmpty ? key : "\(keyPath).\(key)", source: source, environment: environment)
    }

    /// The members of a mapping; any key outside `allowed` is an error naming it.
    func mapping(allowed: Set<String>) throws(ConfigError) -> [String: ConfigNode] {
        guard case .mapping(let mapping) = node else {
            throw error(.wrongType, "expected a mapping, got \(kindName)")
        }
        var members: [String: ConfigNode] = [:]
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            let member = child(valueNode, key: key)
            guard allowed.contains(key) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw ConfigNode(node: keyNode, keyPath: member.keyPath, source: source, environment: environment)
                    .error(.unknownKey, "unknown key (known keys here: \(known))")
            }
            members[key] = member
        }
        return members
    }

    /// The elements of a sequence.
    func sequence() throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else {
            throw error(.wrongType, "expected a sequence, got \(kindName)")
        }
        return sequence.enumerated().map { index, element in
            ConfigNode(node: element, keyPath: "\(keyPath)[\(index)]", source: source, environment: environment)
        }
    }

    /// A scalar's text after `${VAR}` expansion.
    func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else {
            throw error(.wrongType, "expected a string, got \(kindName)")
        }
        return try expand(scalar.string)
    }

    /// An integer within `range`.
    func int(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try scalarText(expected: "an integer")
        guard let value = Int(text) else {
            throw error(.wrongType, "expected an integer, got \(quoted(text))")
        }
        guard range.contains(value) else {
            throw error(.badValue, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return value
    }

    /// A finite number within `range`.
    func double(in range: ClosedRange<Double>) throws(ConfigError) -> Double {
        let text = try scalarText(expected: "a number")
        guard let value = Double(text), value.isFinite else {
            throw error(.wrongType, "expected a number, got \(quoted(text))")
        }
        guard range.contains(value) else {
            throw error(.badValue, "expected a number from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return value
    }

    /// `true` or `false`.
    func bool() throws(ConfigError) -> Bool {
        let text = try scalarText(expected: "true or false")
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw error(.wrongType, "expected true or false, got \(quoted(text))")
        }
    }

    /// Any YAML value as JSON (plugin `config` sections), scalars typed as YAML types them.
    func json() throws(ConfigError) -> JSONValue {
        switch node {
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (keyNode, valueNode) in mapping {
                let key = keyNode.string ?? ""
                object[key] = try child(valueNode, key: key).json()
            }
            return .object(object)
        case .sequence:
            return .array(try sequence().map { (element) throws(ConfigError) in try element.json() })
        case .scalar(let scalar):
            if isNull { return .null }
            let text = try expand(scalar.string)
            guard scalar.style == .plain else { return .string(text) }
            if let value = Int(text) { return .number(Double(value)) }
            if let value = Double(text), value.isFinite { return .number(value) }
            if text == "true" || text == "false" { return .bool(text == "true") }
            return .string(text)
        case .alias:
            throw error(.badValue, "YAML aliases are not supported in the config")
        }
    }

    private func scalarText(expected: String) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw error(.wrongType, "expected \(expected), got \(kindName)")
        }
        return try expand(scalar.string).trimmingCharacters(in: .whitespaces)
    }

    private func quoted(_ text: String) -> String { "\"\(text)\"" }

    /// Expands `${VAR}` (an error when unset) and `${VAR:-default}`.
    private func expand(_ text: String) throws(ConfigError) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw error(.badValue, "unterminated ${ in \(quoted(text))")
            }
            let expression = rest[start.upperBound..<end]
            let parts = expression.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            if let value = environment[name], !(parts.count == 2 && value.isEmpty) {
                result += value
            } else if parts.count == 2 {
                result += parts[1]
            } else {
                throw error(.badValue, "environment variable \(name) is not set (write ${\(name):-default} to allow that)")
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
