/// Splits a server-sent event stream into the `data:` payloads of its events. Pure and
/// incremental: feed bytes as they arrive, read complete events.
public struct SSEParser: Sendable {
    private var buffer: [UInt8] = []
    private var dataLines: [String] = []
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
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        var lineStart = 0
        var index = 0
        while index < buffer.count {
            if buffer[index] == UInt8(ascii: "\n") {
                var line = buffer[lineStart..<index]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                if let event = consume(String(decoding: line, as: UTF8.self)) { events.append(event) }
                lineStart = index + 1
            }
            index += 1
        }
        buffer.removeFirst(lineStart)
        return events
    }

    private mutating func consume(_ line: String) -> Event? {
        if line.isEmpty {
            defer { dataLines = []; eventName = "" }
            return dataLines.isEmpty ? nil : Event(name: eventName, data: dataLines.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }
        let (field, value) = split(line)
        switch field {
        case "data": dataLines.append(value)
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
