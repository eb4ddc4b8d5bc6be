/// Splits a server-sent event stream into the `data:` payloads of its events. Pure and
/// incremental: feed bytes as they arrive, read complete events.
///
/// Bounded: a line longer than `maxLineBytes` or an event whose data passes `maxEventBytes`
/// is an error, so an upstream that never sends a newline cannot grow the buffer without
/// limit. Each byte is scanned once, however the stream is cut into feeds.
public struct SSEParser: Sendable {
    /// The longest line accepted.
    public static let maxLineBytes = 1 << 20
    /// The most data one event may carry.
    public static let maxEventBytes = 4 << 20

    /// An upstream stream past the parser's bounds.
    public struct Overflow: Error, Sendable, CustomStringConvertible {
        /// What was too long.
        public var description: String
    }

    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already searched for a newline.
    private var scanned = 0
    private var dataLines: [String] = []
    private var dataBytes = 0
    private var eventName = ""

    /// An empty parser.
    public init() {}

    /// One complete event.
    public struct Event: Sendable, Hashable {
        /// The `event:` field, "" when absent.
        public var name: String
        /// The `data:` lines joined with newlines.
        public var data: String
    }

    /// Adds bytes; returns the events they completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(Overflow) -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        var lineStart = 0
        var index = scanned
        while index < buffer.count {
            if buffer[index] == UInt8(ascii: "\n") {
                var line = buffer[lineStart..<index]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                if let event = try consume(String(decoding: line, as: UTF8.self)) { events.append(event) }
                lineStart = index + 1
            }
            index += 1
        }
        buffer.removeFirst(lineStart)
        scanned = buffer.count
        guard buffer.count <= Self.maxLineBytes else {
            throw Overflow(description: "upstream stream line longer than \(Self.maxLineBytes) bytes")
        }
        return events
    }

    private mutating func consume(_ line: String) throws(Overflow) -> Event? {
        if line.isEmpty {
            defer { dataLines = []; dataBytes = 0; eventName = "" }
            return dataLines.isEmpty ? nil : Event(name: eventName, data: dataLines.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }
        let (field, value) = split(line)
        switch field {
        case "data":
            dataBytes += value.utf8.count + 1
            guard dataBytes <= Self.maxEventBytes else {
                throw Overflow(description: "upstream stream event larger than \(Self.maxEventBytes) bytes")
            }
            dataLines.append(value)
        case "event": eventName = value
        default: break
        }
        return nil
    }

    private func split(_ line: String) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (line, "") }
        var value = line[line.index(after: colon)...]
        if value.first == " " { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}
