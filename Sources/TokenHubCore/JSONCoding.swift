/// A payload that crosses the ABI as JSON. Conversions go through `JSONValue` with the fast
/// parser and writer (Foundation's Codable JSON costs ~10x more on this hot path).
public protocol JSONPayload: Sendable {
    /// Reads the payload; unknown fields are ignored, absent optional fields take defaults.
    init(json: JSONValue) throws(PayloadError)
    /// The payload as JSON.
    var json: JSONValue { get }
    /// Appends the payload's compact JSON (the bytes of `json.serialized`) to `output`. The
    /// default goes through `json`; payloads on the request path write themselves directly.
    func write(to output: inout JSONOutput)
}

extension JSONPayload {
    /// Through `json`.
    public func write(to output: inout JSONOutput) { output.value(json) }
}

/// A payload that is not of its documented schema, naming the field.
public struct PayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// E.g. `request.messages: expected an array, got string`.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// The one place that turns payloads into bytes and back.
public enum JSONCoding {
    /// The payload as compact UTF-8 JSON.
    public static func encode(_ payload: some JSONPayload) -> [UInt8] {
        var output = JSONOutput()
        payload.write(to: &output)
        return output.bytes
    }

    /// Parses and reads a payload.
    public static func decode<T: JSONPayload>(_ type: T.Type, from bytes: some Collection<UInt8>) throws(PayloadError) -> T {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw PayloadError("\(T.self): \(error)")
        }
        return try T(json: value)
    }
}

/// Typed, path-naming reads of a JSON object's members.
public struct PayloadFields {
    let members: [String: JSONValue]
    let path: String

    /// Reads `value` as an object; `path` prefixes error messages.
    public init(_ value: JSONValue, path: String) throws(PayloadError) {
        guard case .object(let members) = value else {
            throw PayloadError("\(path.isEmpty ? "payload" : path): expected an object, got \(value.typeName)")
        }
        self.members = members
        self.path = path
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw member, nil when absent or null.
    public subscript(key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    /// A string member, or `defaultValue` when absent.
    public func string(_ key: String, default defaultValue: String = "") throws(PayloadError) -> String {
        guard let value = self[key] else { return defaultValue }
        guard case .string(let text) = value else { throw PayloadError("\(field(key)): expected a string, got \(value.typeName)") }
        return text
    }

    /// A required string member.
    public func requiredString(_ key: String) throws(PayloadError) -> String {
        guard self[key] != nil else { throw PayloadError("\(field(key)): required") }
        return try string(key)
    }

    /// A number member, or `defaultValue`.
    public func double(_ key: String, default defaultValue: Double) throws(PayloadError) -> Double {
        guard let value = self[key] else { return defaultValue }
        guard case .number(let number) = value else { throw PayloadError("\(field(key)): expected a number, got \(value.typeName)") }
        return number
    }

    /// An integer member, or `defaultValue`.
    public func int(_ key: String, default defaultValue: Int) throws(PayloadError) -> Int {
        let number = try double(key, default: Double(defaultValue))
        guard number.rounded() == number, abs(number) < 9e15 else { throw PayloadError("\(field(key)): expected an integer, got \(number)") }
        return Int(number)
    }

    /// A boolean member, or `defaultValue`.
    public func bool(_ key: String, default defaultValue: Bool) throws(PayloadError) -> Bool {
        guard let value = self[key] else { return defaultValue }
        guard case .bool(let flag) = value else { throw PayloadError("\(field(key)): expected true or false, got \(value.typeName)") }
        return flag
    }

    /// A nested payload.
    public func payload<T: JSONPayload>(_ key: String, as type: T.Type) throws(PayloadError) -> T? {
        guard let value = self[key] else { return nil }
        do {
            return try T(json: value)
        } catch {
            throw PayloadError("\(field(key)).\(error.message)")
        }
    }
}
