extension JSONValue {
    /// The value as compact UTF-8 JSON. Object keys are written sorted, so equal values always
    /// serialize to equal bytes (stable logs, workflow inputs and test fixtures).
    public var serialized: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(to: &output)
        return output
    }

    /// The value as compact JSON text.
    public var serializedString: String { String(decoding: serialized, as: UTF8.self) }

    func write(to output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value): Self.writeNumber(value, to: &output)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (position, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func writeNumber(_ value: Double, to output: inout [UInt8]) {
        guard value.isFinite else { output.append(contentsOf: "null".utf8); return }
        if value.rounded() == value, abs(value) < 1e15 {
            writeInteger(Int64(value), to: &output)
        } else {
            output.append(contentsOf: "\(value)".utf8)
        }
    }

    private static func writeInteger(_ value: Int64, to output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            output.append(contentsOf: buffer[start...])
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ value: String, to output: inout [UInt8]) {
        // Scanned as one contiguous buffer (a native string's own storage: no copy), which is
        // several times faster than walking `utf8` as a collection.
        var value = value
        value.withUTF8 { bytes in
            output.append(UInt8(ascii: "\""))
            // Most strings need no escaping and are copied whole.
            var clean = true
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                clean = false
                break
            }
            if clean {
                output.append(contentsOf: bytes)
                output.append(UInt8(ascii: "\""))
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0..<0x20:
                    output.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                               hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
                default: output.append(byte)
                }
            }
            output.append(UInt8(ascii: "\""))
        }
    }
}

/// Writes compact JSON directly, for payloads that serialize themselves without building a
/// `JSONValue` tree first. The caller writes object members in sorted key order, so the bytes
/// equal `json.serialized` (a test checks each such payload against it).
public struct JSONOutput {
    /// What was written.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// An empty output.
    public init() { bytes.reserveCapacity(512) }

    /// Opens an object.
    public mutating func open() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    /// Closes an object.
    public mutating func close() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    /// Writes a member's key; its value follows.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }
    /// A string value.
    public mutating func string(_ value: String) { separate(); JSONValue.writeString(value, to: &bytes); needsComma = true }
    /// A number value.
    public mutating func number(_ value: Double) { separate(); JSONValue.writeNumber(value, to: &bytes); needsComma = true }
    /// A boolean value.
    public mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: (value ? "true" : "false").utf8); needsComma = true }
    /// Any value.
    public mutating func value(_ value: JSONValue) { separate(); value.write(to: &bytes); needsComma = true }
    /// An array of payloads.
    public mutating func array(_ items: [some JSONPayload]) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        for item in items { payload(item) }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }
    /// A nested payload.
    public mutating func payload(_ payload: some JSONPayload) { separate(); needsComma = false; payload.write(to: &self); needsComma = true }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}
