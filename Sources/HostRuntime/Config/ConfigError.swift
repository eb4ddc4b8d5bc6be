/// A configuration problem, located by key path and line so an operator can fix it at once.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of problem.
    public enum Code: String, Sendable, Hashable {
        /// The file could not be read.
        case unreadable
        /// The text is not valid YAML.
        case syntax
        /// A key the schema does not know (often a typo).
        case unknownKey
        /// A value of the wrong YAML type.
        case wrongType
        /// A value of the right type that is out of range or malformed.
        case badValue
        /// A required key is absent.
        case missingKey
    }

    /// What kind of problem.
    public var code: Code
    /// The file, or "embedded default config", or an environment variable's name.
    public var source: String
    /// The key path, e.g. `dispatch.chain[1].plugin`; "" for the whole document.
    public var keyPath: String
    /// 1-based line of the offending node, 0 when unknown (environment overrides).
    public var line: Int
    /// 1-based column, 0 when unknown.
    public var column: Int
    /// What was expected and what was found.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, source: String, keyPath: String, line: Int = 0, column: Int = 0, message: String) {
        self.code = code
        self.source = source
        self.keyPath = keyPath
        self.line = line
        self.column = column
        self.message = message
    }

    /// `config.yaml:7:11: server.listen: expected host:port, got "abc"`.
    public var description: String {
        let location = line > 0 ? "\(source):\(line):\(column)" : source
        return keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
    }
}
