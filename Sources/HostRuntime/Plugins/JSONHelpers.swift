import PluginAPI
import PluginKit
import TokenHubCore

/// The host table's JSON helpers (ABI 1.3: `host_json_get`, `host_json_set`,
/// `host_chat_error`), so that a plugin in C needs no JSON parser for common work. Pure
/// functions of their inputs; the C thunks only copy in and write out.
enum JSONHelpers {
    /// What a helper produced: bytes for the caller's buffer, or a status.
    enum Output: Equatable {
        case bytes([UInt8])
        case failure(PluginStatus)

        /// Writes into the caller's buffer with the ABI's convention: the full length, and
        /// nothing written when it does not fit; a negative status on failure.
        func write(to out: UnsafeMutablePointer<UInt8>?, capacity: Int) -> Int64 {
            switch self {
            case .failure(let status):
                return Int64(status.code)
            case .bytes(let bytes):
                if let out, bytes.count <= capacity {
                    bytes.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: bytes.count) }
                }
                return Int64(bytes.count)
            }
        }
    }

    /// The value at `pointer`: a string's text unescaped, anything else as compact JSON.
    static func get(json: [UInt8], pointer: String) -> Output {
        guard let root = try? JSONValue.parse(json), let tokens = tokens(pointer) else { return .failure(.invalidArgument) }
        var value = root
        for token in tokens {
            guard let next = child(of: value, token) else { return .failure(.notFound) }
            value = next
        }
        if case .string(let text) = value { return .bytes(Array(text.utf8)) }
        return .bytes(value.serialized)
    }

    /// `json` with the value at `pointer` replaced by `value` (added to an object when absent).
    static func set(json: [UInt8], pointer: String, value: [UInt8]) -> Output {
        guard let root = try? JSONValue.parse(json), let replacement = try? JSONValue.parse(value),
              let tokens = tokens(pointer), !tokens.isEmpty else { return .failure(.invalidArgument) }
        guard let updated = replacing(in: root, at: tokens[...], with: replacement) else { return .failure(.notFound) }
        return .bytes(updated.serialized)
    }

    /// A ChatOutput carrying `message` with `errorClass` (one of `ErrorClass`).
    static func chatError(errorClass: String, message: String) -> Output {
        guard let errorClass = ErrorClass(rawValue: errorClass) else { return .failure(.invalidArgument) }
        return .bytes(JSONCoding.encode(ChatOutput(error: message, errorClass: errorClass)))
    }

    /// RFC 6901 reference tokens: "" is the whole document, else "/"-separated, with "~1"
    /// for "/" and "~0" for "~". Nil when malformed.
    static func tokens(_ pointer: String) -> [String]? {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { return nil }
        var tokens: [String] = []
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var iterator = raw.makeIterator()
            while let character = iterator.next() {
                guard character == "~" else { token.append(character); continue }
                switch iterator.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: return nil
                }
            }
            tokens.append(token)
        }
        return tokens
    }

    private static func index(_ token: String, count: Int) -> Int? {
        guard let index = Int(token), index >= 0, index < count, token == String(index) else { return nil }
        return index
    }

    private static func child(of value: JSONValue, _ token: String) -> JSONValue? {
        switch value {
        case .object(let members): members[token]
        case .array(let items): index(token, count: items.count).map { items[$0] }
        default: nil
        }
    }

    private static func replacing(in value: JSONValue, at tokens: ArraySlice<String>, with replacement: JSONValue) -> JSONValue? {
        guard let token = tokens.first else { return replacement }
        let rest = tokens.dropFirst()
        switch value {
        case .object(var members):
            if rest.isEmpty {
                members[token] = replacement
            } else {
                guard let member = members[token], let updated = replacing(in: member, at: rest, with: replacement) else { return nil }
                members[token] = updated
            }
            return .object(members)
        case .array(var items):
            guard let index = index(token, count: items.count),
                  let updated = replacing(in: items[index], at: rest, with: replacement) else { return nil }
            items[index] = updated
            return .array(items)
        default:
            return nil
        }
    }
}
