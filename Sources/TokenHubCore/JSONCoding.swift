import Foundation

/// The one place that decides how TokenHub's payloads are written and read, so the host,
/// every Swift plugin and the tests agree byte for byte.
public enum JSONCoding {
    /// Encodes a payload with sorted keys (stable output for logs, tests and workflow inputs).
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Decodes a payload.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}
