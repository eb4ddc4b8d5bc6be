import Foundation
@testable import HostRuntime
import Testing

@Suite("Secret keyring: provider keys sealed at rest")
struct SecretKeyringTests {
    let first = SecretKeyring.generateKeyText()
    let second = SecretKeyring.generateKeyText()

    @Test("seal and open round-trip; the sealed text holds neither the key nor the plaintext")
    func roundTrip() throws {
        let keyring = try SecretKeyring.load(environment: ["TOKENHUB_SECRET_KEY": first], keyFile: nil)
        let sealed = try keyring.seal("sk-secret-value-123", context: "provider:openai")
        #expect(sealed.hasPrefix("thk1:"))
        #expect(!sealed.contains("sk-secret"))
        #expect(!sealed.contains(first))
        #expect(SecretKeyring.sealingKeyID(sealed) == keyring.current?.id)
        #expect(try keyring.open(sealed, context: "provider:openai") == "sk-secret-value-123")
        // Two seals of one key differ (fresh nonce).
        #expect(try keyring.seal("sk-secret-value-123", context: "provider:openai") != sealed)
    }

    @Test("a wrong key is named as such, never a garbage decrypt; a value moved to another record does not open")
    func wrongKey() throws {
        let sealer = try SecretKeyring.load(environment: ["TOKENHUB_SECRET_KEY": first], keyFile: nil)
        let sealed = try sealer.seal("sk-1", context: "provider:a")
        let other = try SecretKeyring.load(environment: ["TOKENHUB_SECRET_KEY": second], keyFile: nil)
        #expect(throws: SecretKeyError.self) { try other.open(sealed, context: "provider:a") }
        do {
            _ = try other.open(sealed, context: "provider:a")
        } catch {
            #expect(error.message.contains("sealed with secret key \(sealer.current!.id), which is not configured"))
        }
        #expect(throws: SecretKeyError.self) { try sealer.open(sealed, context: "provider:b") }
        let none = SecretKeyring(current: nil)
        #expect(throws: SecretKeyError.self) { try none.open(sealed, context: "provider:a") }
    }

    @Test("previous keys open old values; malformed keys are refused naming the variable")
    func rotationAndMalformed() throws {
        let old = try SecretKeyring.load(environment: ["TOKENHUB_SECRET_KEY": first], keyFile: nil)
        let sealed = try old.seal("sk-1", context: "provider:a")
        let rotated = try SecretKeyring.load(environment: ["TOKENHUB_SECRET_KEY": second, "TOKENHUB_SECRET_KEY_PREVIOUS": first], keyFile: nil)
        #expect(try rotated.open(sealed, context: "provider:a") == "sk-1")
        do {
            _ = try SecretKeyring.load(environment: ["TOKENHUB_SECRET_KEY": "short"], keyFile: nil)
            Issue.record("a 5-character key was accepted")
        } catch {
            #expect(error.message.contains("TOKENHUB_SECRET_KEY: expected 32 random bytes"))
        }
        let hex = String(repeating: "ab", count: 32)
        #expect(try SecretKeyring.load(environment: ["TOKENHUB_SECRET_KEY": hex], keyFile: nil).canSeal)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokenhub-key-\(UUID().uuidString)").path
        try (first + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try SecretKeyring.load(environment: [:], keyFile: file).current?.id == old.current?.id)
        #expect(throws: SecretKeyError.self) { try SecretKeyring.load(environment: [:], keyFile: file + ".missing") }
    }
}
