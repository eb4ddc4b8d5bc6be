import NIOCore
import NIOEmbedded
@testable import TemporalKit
import Testing

/// The PING answering handler on raw HTTP/2 frames, without a server.
@Suite struct PingResponderTests {
    func frame(type: UInt8, flags: UInt8, stream: UInt32 = 0, payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        var bytes: [UInt8] = [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags]
        bytes += [UInt8(stream >> 24 & 0xFF), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
        return bytes + payload
    }

    @Test func answersPingsItselfAndForwardsEveryOtherFrameEvenWhenSplitAcrossReads() throws {
        let channel = EmbeddedChannel(handler: PingResponder())
        let settings = frame(type: 0x4, flags: 0, payload: [0, 4, 0, 1, 0, 0])
        let ping = frame(type: 0x6, flags: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8])
        let data = frame(type: 0x0, flags: 0x1, stream: 1, payload: Array("hello".utf8))
        let pingAck = frame(type: 0x6, flags: 0x1, payload: [9, 9, 9, 9, 9, 9, 9, 9])
        let stream = settings + ping + data + pingAck
        // Deliver in awkward pieces: mid-header and mid-payload.
        for chunk in [stream[0..<5], stream[5..<20], stream[20..<31], stream[31...]] {
            try channel.writeInbound(channel.allocator.buffer(bytes: Array(chunk)))
        }
        var forwarded: [UInt8] = []
        while var buffer = try channel.readInbound(as: ByteBuffer.self) {
            forwarded += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        #expect(forwarded == settings + data + pingAck, "everything but the server's PING reaches the HTTP/2 handler")
        var answer = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(answer.readBytes(length: answer.readableBytes) == frame(type: 0x6, flags: 0x1, payload: [1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "exactly one ACK")
        _ = try channel.finish()
    }
}
