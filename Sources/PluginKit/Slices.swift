import PluginAPI

extension tokenhub_slice {
    /// Copies the borrowed bytes out; the slice is only valid during the call that gave it.
    public var bytes: [UInt8] {
        guard let ptr, len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: ptr, count: len))
    }

    /// Copies the borrowed bytes out as UTF-8 text (invalid sequences are repaired).
    public var string: String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: ptr, count: len), as: UTF8.self)
    }
}

/// Lends `bytes` to `body` as a borrowed `tokenhub_slice`.
@inlinable
public func withSlice<R>(_ bytes: [UInt8], _ body: (tokenhub_slice) throws -> R) rethrows -> R {
    try bytes.withUnsafeBufferPointer { try body(tokenhub_slice(ptr: $0.baseAddress, len: $0.count)) }
}

/// Lends the UTF-8 of `text` to `body` as a borrowed `tokenhub_slice`.
@inlinable
public func withSlice<R>(_ text: String, _ body: (tokenhub_slice) throws -> R) rethrows -> R {
    var text = text
    return try text.withUTF8 { try body(tokenhub_slice(ptr: $0.baseAddress, len: $0.count)) }
}

extension tokenhub_error_buffer {
    /// Copies `message` into the caller's buffer, truncated on a UTF-8 boundary and
    /// NUL-terminated, as the ABI asks of synchronous calls that fail.
    public func write(_ message: String) {
        guard let data, capacity > 0 else { return }
        let text = truncatedUTF8(message, maxBytes: capacity - 1)
        data.withMemoryRebound(to: UInt8.self, capacity: capacity) { target in
            for (index, byte) in text.enumerated() { target[index] = byte }
            target[text.count] = 0
        }
    }
}

/// The UTF-8 of `text`, cut to at most `maxBytes` without splitting a character.
func truncatedUTF8(_ text: String, maxBytes: Int) -> [UInt8] {
    let utf8 = Array(text.utf8)
    guard utf8.count > maxBytes else { return utf8 }
    var end = maxBytes
    // Back up over continuation bytes (10xxxxxx) to the lead byte of the last character.
    var lead = end - 1
    while lead > 0, utf8[lead] & 0xC0 == 0x80 { lead -= 1 }
    let byte = utf8[lead]
    let width = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
    if lead + width > end { end = lead }
    return Array(utf8[..<end])
}

/// A C `user_data` pointer. The ABI lets a completion fire on any thread, so carrying the
/// pointer across tasks is part of the contract, not a data race.
public struct CUserData: @unchecked Sendable {
    /// The pointer, unchanged.
    public let pointer: UnsafeMutableRawPointer?
    /// Wraps `pointer`.
    public init(_ pointer: UnsafeMutableRawPointer?) { self.pointer = pointer }
}
