import NIOCore

/// Answers the server's HTTP/2 PINGs below the HTTP/2 handler, so they never reach it.
///
/// Why: Temporal's Go frontend sends a bandwidth-estimation PING for each burst of request
/// data it receives, and swift-nio-http2 treats more than 200 control frames in 30 s as a
/// denial-of-service attempt: it closes the connection with GOAWAY ENHANCE_YOUR_CALM (seen on
/// the wire every ~28 s at 4 workflows/s), failing every call in flight and losing the tasks
/// the server had just handed to our pollers. grpc-swift-nio-transport does not expose that
/// limit, so this handler, first in the pipeline, parses the inbound frame boundaries, writes
/// the PING ACK itself (as RFC 9113 §6.7 requires, same payload) and forwards every other frame
/// unchanged. Plaintext only: it reads raw HTTP/2 frames.
///
/// THREAD: on the channel's event loop, as every NIO handler.
final class PingResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let frameHeaderLength = 9
    static let pingType: UInt8 = 0x6
    static let ackFlag: UInt8 = 0x1

    private var pending: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if var buffered = pending {
            buffered.writeBuffer(&incoming)
            incoming = buffered
            pending = nil
        }
        var forward = context.channel.allocator.buffer(capacity: incoming.readableBytes)
        while incoming.readableBytes >= Self.frameHeaderLength {
            let start = incoming.readerIndex
            guard let high = incoming.getInteger(at: start, as: UInt8.self),
                  let low = incoming.getInteger(at: start + 1, as: UInt16.self),
                  let type = incoming.getInteger(at: start + 3, as: UInt8.self),
                  let flags = incoming.getInteger(at: start + 4, as: UInt8.self) else { break }
            let length = Int(high) << 16 | Int(low)
            let frameLength = Self.frameHeaderLength + length
            guard incoming.readableBytes >= frameLength, var frame = incoming.readSlice(length: frameLength) else { break }
            if type == Self.pingType, flags & Self.ackFlag == 0, length == 8 {
                frame.setInteger(flags | Self.ackFlag, at: frame.readerIndex + 4)
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            } else {
                forward.writeBuffer(&frame)
            }
        }
        if incoming.readableBytes > 0 { pending = incoming }
        if forward.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(forward)) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }
}
