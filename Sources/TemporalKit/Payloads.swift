import Foundation
import TemporalProto
import TokenHubCore

/// Temporal payloads as TokenHub writes them: one `json/plain` payload per value, so the
/// `temporal` CLI, the Web UI and every other SDK read them as JSON.
public enum JSONPayloads {
    /// The metadata key that names a payload's encoding.
    static let encodingKey = "encoding"
    /// The encoding TokenHub writes.
    static let jsonPlain = Data("json/plain".utf8)

    /// One JSON value as a payload list of one.
    public static func encode(_ value: JSONValue) -> PBPayloads {
        var payload = PBPayload()
        payload.metadata[encodingKey] = jsonPlain
        payload.data = Data(value.serialized)
        var payloads = PBPayloads()
        payloads.payloads = [payload]
        return payloads
    }

    /// The first payload as JSON: `null` when there is none or it is `binary/null`.
    /// - Throws: `TemporalError.badPayload` for an encoding other than JSON, or bad JSON.
    public static func decodeFirst(_ payloads: PBPayloads) throws(TemporalError) -> JSONValue {
        guard let payload = payloads.payloads.first else { return .null }
        let encoding = payload.metadata[encodingKey].map { String(decoding: $0, as: UTF8.self) } ?? ""
        switch encoding {
        case "binary/null":
            return .null
        case "json/plain", "":
            do {
                return try JSONValue.parse(Array(payload.data))
            } catch {
                throw TemporalError(.badPayload, "payload is not valid JSON: \(error)")
            }
        default:
            throw TemporalError(.badPayload, "payload encoding \"\(encoding)\" is not supported (TokenHub reads json/plain)")
        }
    }
}
