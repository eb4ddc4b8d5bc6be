import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TokenHubCore

/// `GET /admin/v1/events`: the event bus as Server-Sent Events.
///
/// A `connected` event comes first (with the last sequence number); with `Last-Event-ID`, the
/// events after it that the ring still holds follow, and a `gap` event announces any range it
/// no longer holds. Each event is `id: <sequence>`, `event: <type>`, `data: <json>`; a comment
/// line every `keepAlive` keeps proxies from closing an idle stream. `?types=a,b` filters.
/// A subscriber that stops reading is cut off by the bus (its queue filled), which ends the
/// stream; the others never wait for it.
struct EventStream {
    let bus: EventBus
    var keepAlive: Duration = .seconds(15)

    func response(_ request: Request) throws(APIError) -> Response {
        let types = request.uri.queryParameters.get("types").map { list in
            Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        var after: UInt64?
        if let header = HTTPField.Name("Last-Event-ID").flatMap({ request.headers[$0] }), !header.isEmpty {
            guard let value = UInt64(header.trimmingCharacters(in: .whitespaces)) else {
                throw APIError(.badRequest, "Last-Event-ID: expected the sequence number of an event, got \"\(header.prefix(40))\"",
                               code: "invalid_last_event_id")
            }
            after = value
        }
        let subscription = bus.subscribe(types: types, after: after)
        let keepAlive = self.keepAlive
        let body = ResponseBody { writer in
            var opening = Self.frame(id: nil, type: "connected", .object(["last_sequence": .number(Double(bus.lastSequence))]))
            if let missed = subscription.missed {
                opening += Self.frame(id: nil, type: "gap", .object([
                    "first_missed": .number(Double(missed.lowerBound)), "last_missed": .number(Double(missed.upperBound)),
                    "reason": .string("the resume buffer no longer holds these events"),
                ]))
            }
            for event in subscription.replay { opening += Self.frame(event) }
            try await writer.write(ByteBuffer(string: opening))
            // Keep-alive ticks arrive through the subscription as empty batches (the writer is
            // not shared between tasks); a batch of events is written as one buffer.
            let ticks = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: keepAlive)
                    subscription.keepAlive()
                }
            }
            defer { ticks.cancel(); subscription.cancel() }
            while let batch = await subscription.next() {
                if batch.isEmpty {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    continue
                }
                var frames = ByteBuffer()
                for event in batch { frames.writeString(Self.frame(event)) }
                try await writer.write(frames)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    static func frame(_ event: GatewayEvent) -> String {
        frame(id: event.sequence, type: event.type, event.json)
    }

    static func frame(id: UInt64?, type: String, _ data: JSONValue) -> String {
        (id.map { "id: \($0)\n" } ?? "") + "event: \(type)\ndata: \(data.serializedString)\n\n"
    }
}
