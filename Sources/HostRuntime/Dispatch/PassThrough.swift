import Foundation
import Synchronization
import TokenHubCore

/// The host's own encodings of ChatInputs and ChatOutputs, recognized when a dispatcher
/// hands them back unchanged: a pass-through dispatcher (DirectDispatch, or any that relays
/// a request as it came) sends the host's ChatInput bytes to `host_route_and_send` and
/// answers with the engine's ChatOutput bytes. Recognizing them (a hash, then a byte
/// comparison) costs far less than parsing them again; bytes a dispatcher changed are parsed.
///
/// Bounded: entries are for requests in flight (taken on use, forgotten when the dispatch
/// ends), at most `EncodedValueMemo.capacity` of them and none over `maxEntryBytes`.
public enum PassThrough {
    static let inputs = EncodedValueMemo<ChatInput>()
    static let outputs = EncodedValueMemo<ChatOutput>()

    /// Encodes `input` for a dispatcher and remembers the encoding until `forget(input:)`.
    public static func encode(_ input: ChatInput) -> [UInt8] {
        let bytes = JSONCoding.encode(input)
        inputs.remember(input, encodedAs: bytes)
        return bytes
    }

    /// Forgets an encoding made by `encode(_: ChatInput)`, once its dispatch has ended.
    public static func forget(input bytes: [UInt8]) { _ = inputs.take(bytes) }

    /// A ChatInput from a dispatcher: the host's own, if these are its bytes, else parsed.
    public static func decodeInput(_ bytes: [UInt8]) throws(PayloadError) -> ChatInput {
        if let input = inputs.peek(bytes) { return input }
        return try JSONCoding.decode(ChatInput.self, from: bytes)
    }

    /// Encodes the engine's output for a dispatcher and remembers it until it comes back.
    public static func encode(_ output: ChatOutput) -> [UInt8] {
        let bytes = JSONCoding.encode(output)
        outputs.remember(output, encodedAs: bytes)
        return bytes
    }

    /// A dispatcher's answer: the engine's own output, if these are its bytes, else parsed
    /// (nil when it is not a ChatOutput).
    public static func decodeOutput(_ bytes: [UInt8]) -> ChatOutput? {
        if let output = outputs.take(bytes) { return output }
        return try? JSONCoding.decode(ChatOutput.self, from: bytes)
    }
}

/// Values by the exact bytes they were encoded as. THREAD: safe from any thread.
final class EncodedValueMemo<Value: Sendable>: Sendable {
    /// The most entries kept; the oldest is dropped past it.
    static var capacity: Int { 4096 }
    /// Larger encodings are not kept (their memory would outweigh a parse saved).
    static var maxEntryBytes: Int { 256 << 10 }

    private struct Entry {
        var bytes: [UInt8]
        var value: Value
        var serial: UInt64
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        /// Fingerprint and serial of each entry in insertion order, for eviction (a slot whose
        /// entry was taken or replaced is skipped).
        var order: [(fingerprint: Int, serial: UInt64)] = []
        var head = 0
        var nextSerial: UInt64 = 0
    }

    private let state = Mutex(State())

    func remember(_ value: Value, encodedAs bytes: [UInt8]) {
        guard bytes.count <= Self.maxEntryBytes else { return }
        let fingerprint = Self.fingerprint(bytes)
        state.withLock { state in
            state.nextSerial &+= 1
            state.entries[fingerprint] = Entry(bytes: bytes, value: value, serial: state.nextSerial)
            state.order.append((fingerprint, state.nextSerial))
            while state.order.count - state.head > Self.capacity {
                let oldest = state.order[state.head]
                state.head += 1
                if state.entries[oldest.fingerprint]?.serial == oldest.serial { state.entries[oldest.fingerprint] = nil }
            }
            if state.head > Self.capacity {  // compact the consumed prefix now and then
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// The value encoded as exactly `bytes`, removed.
    func take(_ bytes: [UInt8]) -> Value? { lookup(bytes, remove: true) }

    /// The value encoded as exactly `bytes`, kept.
    func peek(_ bytes: [UInt8]) -> Value? { lookup(bytes, remove: false) }

    private func lookup(_ bytes: [UInt8], remove: Bool) -> Value? {
        let fingerprint = Self.fingerprint(bytes)
        return state.withLock { state -> Value? in
            guard let entry = state.entries[fingerprint], Self.same(entry.bytes, bytes) else { return nil }
            if remove { state.entries[fingerprint] = nil }
            return entry.value
        }
    }

    private static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in
            x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0
        } }
    }

    /// A hash of all the bytes: answers often differ only in the middle (an id), so nothing
    /// less tells the ones in flight apart. Equality is still checked on a match.
    static func fingerprint(_ bytes: [UInt8]) -> Int {
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}
