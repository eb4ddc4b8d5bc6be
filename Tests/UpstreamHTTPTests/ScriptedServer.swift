import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on a loopback port whose answers a test scripts, recording what
/// it saw: connections opened and closed, and each request's head and body.
final class ScriptedServer: Sendable {
    /// How to answer one request.
    enum Answer: Sendable {
        /// A whole answer; `close` adds `Connection: close` and closes after it.
        case whole(status: HTTPResponseStatus = .ok, body: String, close: Bool = false)
        /// A chunked answer of `parts`, `delayMs` apart.
        case parts([String], delayMs: Int)
        /// A chunked answer of `count` parts of `size` bytes, each written after the last
        /// one reached the kernel; `bytesWritten` counts them.
        case flood(count: Int, size: Int)
        /// The whole answer, then the connection closed after `afterMs` (no `Connection: close`).
        case wholeThenClose(body: String, afterMs: Int)
        /// Nothing at all.
        case silence
    }

    struct Request: Sendable {
        var head: HTTPRequestHead
        var body: String
    }

    struct Record: Sendable {
        var opened = 0
        var closed = 0
        var requests: [Request] = []
        var bytesWritten = 0
    }

    /// What it saw, shared with its connections' handlers.
    final class Recorder: Sendable {
        private let mutex = Mutex(Record())
        func withLock<R>(_ body: (inout Record) -> R) -> R { mutex.withLock { body(&$0) } }
    }

    private let record = Recorder()
    private let channel: any Channel
    let port: Int

    /// Starts the server; `script` picks the answer for the n-th request (from 0).
    init(script: @escaping @Sendable (Int, Request) -> Answer) async throws {
        let record = record
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(record: record, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    var seen: Record { record.withLock { $0 } }

    func stop() async { try? await channel.close() }
}

private final class ScriptedHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let record: ScriptedServer.Recorder
    private let script: @Sendable (Int, ScriptedServer.Request) -> ScriptedServer.Answer
    private var head: HTTPRequestHead?
    private var body = ""
    /// Used by scheduled writes (on this channel's loop, like every method here).
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    init(record: ScriptedServer.Recorder, script: @escaping @Sendable (Int, ScriptedServer.Request) -> ScriptedServer.Answer) {
        self.record = record
        self.script = script
    }

    func channelActive(context: ChannelHandlerContext) {
        record.withLock { $0.opened += 1 }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        record.withLock { $0.closed += 1 }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = ""
        case .body(let part):
            body += String(buffer: part)
        case .end:
            guard let head else { return }
            let request = ScriptedServer.Request(head: head, body: body)
            let index = record.withLock { record in
                record.requests.append(request)
                return record.requests.count - 1
            }
            answer(script(index, request), context: context)
        }
    }

    private func answer(_ answer: ScriptedServer.Answer, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        switch answer {
        case .whole(let status, let text, let close):
            var headers = HTTPHeaders([("content-length", "\(text.utf8.count)")])
            if close { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if close { done.whenComplete { _ in self.context?.close(promise: nil) } }
        case .wholeThenClose(let text, let afterMs):
            let headers = HTTPHeaders([("content-length", "\(text.utf8.count)")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            loop.scheduleTask(in: .milliseconds(Int64(afterMs))) { self.context?.close(promise: nil) }
        case .parts(let parts, let delayMs):
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok))), promise: nil)
            for (index, part) in parts.enumerated() {
                loop.scheduleTask(in: .milliseconds(Int64(delayMs * (index + 1)))) {
                    self.context?.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: part)))), promise: nil)
                    if index == parts.count - 1 { self.context?.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil) }
                }
            }
        case .flood(let count, let size):
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok))), promise: nil)
            flood(remaining: count, size: size)
        case .silence:
            break
        }
    }

    private func flood(remaining: Int, size: Int) {
        guard let context else { return }
        guard remaining > 0 else { return context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil) }
        let part = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(part)))).whenSuccess {
            self.record.withLock { $0.bytesWritten += size }
            self.flood(remaining: remaining - 1, size: size)
        }
    }
}
