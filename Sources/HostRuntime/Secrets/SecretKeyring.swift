import Crypto
import Foundation

/// Provider keys at rest: sealed with AES-256-GCM under the gateway's secret key before they
/// reach any store, so every store plugin keeps only ciphertext.
///
/// A sealed value is `thk1:<key id>:<base64 of nonce, ciphertext and tag>`. The key id is
/// derived from the key itself (the first 8 bytes of a SHA-256 over it, as hex), so a value
/// names the key that opens it, and a wrong key is told apart from a damaged value. The
/// provider id is authenticated with the ciphertext: a sealed key copied to another
/// provider's record does not open.
///
/// Keys come from `TOKENHUB_SECRET_KEY` or the file named by `server.secret_key_file`
/// (32 random bytes as base64 or 64 hex digits, e.g. `openssl rand -base64 32`). Earlier keys,
/// still needed to open values until `tokenhub secrets rotate` re-seals them, are listed in
/// `TOKENHUB_SECRET_KEY_PREVIOUS` (comma-separated).
public struct SecretKeyring: Sendable {
    /// One key and its id.
    public struct Key: Sendable {
        /// Derived from the key: names it in sealed values.
        public let id: String
        /// The key's bytes (SymmetricKey is not Sendable; one is made for each use).
        let bytes: [UInt8]
        var key: SymmetricKey { SymmetricKey(data: bytes) }
    }

    /// The key new values are sealed with; nil when none is configured.
    public let current: Key?
    /// Keys that still open older values.
    public let previous: [Key]

    static let prefix = "thk1"

    /// A keyring with these keys.
    public init(current: Key?, previous: [Key] = []) {
        self.current = current
        self.previous = previous
    }

    /// Whether new values can be sealed.
    public var canSeal: Bool { current != nil }

    /// Reads the keys from the environment and `keyFile`. The environment's
    /// `TOKENHUB_SECRET_KEY` wins over the file.
    public static func load(environment: [String: String], keyFile: String?) throws(SecretKeyError) -> SecretKeyring {
        var currentText = environment["TOKENHUB_SECRET_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        var source = "TOKENHUB_SECRET_KEY"
        if currentText == nil, let keyFile {
            guard let contents = FileManager.default.contents(atPath: keyFile) else {
                throw SecretKeyError("server.secret_key_file: cannot read \(keyFile)")
            }
            currentText = String(decoding: contents, as: UTF8.self)
            source = "server.secret_key_file (\(keyFile))"
        }
        let current = try currentText.map { (text) throws(SecretKeyError) in try key(from: text, source: source) }
        var previous: [Key] = []
        for part in (environment["TOKENHUB_SECRET_KEY_PREVIOUS"] ?? "").split(separator: ",") {
            previous.append(try key(from: String(part), source: "TOKENHUB_SECRET_KEY_PREVIOUS"))
        }
        return SecretKeyring(current: current, previous: previous)
    }

    /// A key from 32 bytes written as base64 or hex.
    public static func key(from text: String, source: String) throws(SecretKeyError) -> Key {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var bytes: [UInt8]?
        if trimmed.utf8.count == 64, trimmed.utf8.allSatisfy({ $0 < 0x80 && Character(UnicodeScalar($0)).isHexDigit }) {
            var decoded: [UInt8] = []
            var index = trimmed.startIndex
            while index < trimmed.endIndex {
                let next = trimmed.index(index, offsetBy: 2)
                decoded.append(UInt8(trimmed[index..<next], radix: 16)!)
                index = next
            }
            bytes = decoded
        } else if let data = Data(base64Encoded: trimmed) {
            bytes = Array(data)
        }
        guard let bytes, bytes.count == 32 else {
            throw SecretKeyError("\(source): expected 32 random bytes as base64 or 64 hex digits (e.g. the output of `openssl rand -base64 32`)")
        }
        return Key(id: keyID(bytes), bytes: bytes)
    }

    /// A fresh random key as base64 (what `tokenhub secrets generate` prints).
    public static func generateKeyText() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    static func keyID(_ bytes: [UInt8]) -> String {
        let digest = SHA256.hash(data: Data("tokenhub secret key id\u{0}".utf8) + Data(bytes))
        return digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// The id of the key that sealed `value`, nil when it is not a sealed value.
    public static func sealingKeyID(_ value: String) -> String? {
        let parts = value.split(separator: ":", maxSplits: 2)
        guard parts.count == 3, parts[0] == prefix else { return nil }
        return String(parts[1])
    }

    /// Seals `plaintext` for the record `context` (e.g. `provider:openai`).
    public func seal(_ plaintext: String, context: String) throws(SecretKeyError) -> String {
        guard let current else { throw SecretKeyError("no secret key is configured") }
        do {
            let box = try AES.GCM.seal(Data(plaintext.utf8), using: current.key, authenticating: Data(context.utf8))
            guard let combined = box.combined else { throw SecretKeyError("AES-GCM produced no combined box") }
            return "\(Self.prefix):\(current.id):\(combined.base64EncodedString())"
        } catch let error as SecretKeyError {
            throw error
        } catch {
            throw SecretKeyError("sealing failed: \(error)")
        }
    }

    /// Opens a sealed value of the record `context`; errors say which key is missing or
    /// that the value does not authenticate (a damaged value, or one of another record).
    public func open(_ sealed: String, context: String) throws(SecretKeyError) -> String {
        let parts = sealed.split(separator: ":", maxSplits: 2)
        guard parts.count == 3, parts[0] == Self.prefix, let combined = Data(base64Encoded: String(parts[2])) else {
            throw SecretKeyError("\(context): the stored key is not a sealed value")
        }
        let id = String(parts[1])
        guard let key = ([current].compactMap { $0 } + previous).first(where: { $0.id == id }) else {
            let configured = ([current].compactMap { $0 } + previous).map(\.id)
            throw SecretKeyError("\(context): the stored key was sealed with secret key \(id), which is not configured "
                + (configured.isEmpty ? "(no secret key is set: set TOKENHUB_SECRET_KEY)"
                    : "(configured: \(configured.joined(separator: ", "))); set TOKENHUB_SECRET_KEY or add the old key to TOKENHUB_SECRET_KEY_PREVIOUS"))
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let plain = try AES.GCM.open(box, using: key.key, authenticating: Data(context.utf8))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw SecretKeyError("\(context): the stored key does not authenticate under secret key \(id) (damaged, or copied from another record)")
        }
    }
}

/// A secret key that is missing, malformed or wrong.
public struct SecretKeyError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what to set.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
