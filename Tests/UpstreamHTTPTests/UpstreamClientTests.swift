import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
import TestSupport
@testable import UpstreamHTTP

@Suite("Upstream client over real sockets")
struct UpstreamClientTests {
    let client = UpstreamClient()

    func endpoint(_ server: ScriptedServer, path: String = "/v1/chat/completions") throws -> UpstreamEndpoint {
        try UpstreamEndpoint(url: "http://127.0.0.1:\(server.port)/v1", appendingPath: "/chat/completions")
    }

    func post(_ endpoint: UpstreamEndpoint, _ body: String = "{}", deadlineMs: Int64 = 5_000, maxBytes: Int = 1 << 20) async throws
        -> UpstreamClient.Response
    {
        try await client.post(endpoint, headers: HTTPHeaders([("content-type", "application/json")]),
                              body: ByteBuffer(string: body), deadline: .now() + .milliseconds(deadlineMs), maxBodyBytes: maxBytes)
    }

    /// Waits until `condition` holds on the server's record; false after 15 s (a hang guard:
    /// in a loaded full run a request can take seconds to reach the server).
    func eventually(_ server: ScriptedServer, _ condition: (ScriptedServer.Record) -> Bool) async -> Bool {
        await TestSupport.eventually(timeout: .seconds(15)) { condition(server.seen) }
    }

    @Test("ten requests in a row share one connection; path, Host, Content-Length and body arrive as sent")
    func keepAlive() async throws {
        let server = try await ScriptedServer { index, request in .whole(body: "answer \(index) to \(request.body)") }
        let endpoint = try endpoint(server)
        for index in 0..<10 {
            let response = try await post(endpoint, #"{"n":\#(index)}"#)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"answer \#(index) to {"n":\#(index)}"#)
        }
        let seen = server.seen
        #expect(seen.opened == 1)
        #expect(seen.requests.count == 10)
        let head = try #require(seen.requests.first?.head)
        #expect(head.method == .POST && head.uri == "/v1/chat/completions")
        #expect(head.headers["host"] == ["127.0.0.1:\(server.port)"])
        #expect(head.headers["content-length"] == ["7"])
        #expect(client.idleConnections(to: endpoint) == 1)
        await server.stop()
    }

    @Test("an answer with Connection: close is read, and its connection is not reused")
    func connectionClose() async throws {
        let server = try await ScriptedServer { _, _ in .whole(body: "bye", close: true) }
        let endpoint = try endpoint(server)
        for _ in 0..<3 { #expect(String(buffer: try await post(endpoint).body) == "bye") }
        #expect(server.seen.opened == 3)
        #expect(client.idleConnections(to: endpoint) == 0)
        await server.stop()
    }

    @Test("a body over the limit, declared or chunked, fails bodyTooLarge and closes its connection; the next request works")
    func bodyTooLarge() async throws {
        let server = try await ScriptedServer { index, _ in
            switch index {
            case 0: .whole(body: String(repeating: "a", count: 2_000))
            case 1: .parts([String(repeating: "b", count: 800), String(repeating: "c", count: 800)], delayMs: 1)
            default: .whole(body: "small")
            }
        }
        let endpoint = try endpoint(server)
        for _ in 0..<2 {
            await #expect(throws: UpstreamError.bodyTooLarge(limit: 1_000)) { try await post(endpoint, maxBytes: 1_000) }
        }
        #expect(await eventually(server) { $0.closed == 2 })
        #expect(String(buffer: try await post(endpoint, maxBytes: 1_000).body) == "small")
        await server.stop()
    }

    @Test("no answer before the deadline: deadlineExceeded, and the connection is closed")
    func deadline() async throws {
        let server = try await ScriptedServer { _, _ in .silence }
        let endpoint = try endpoint(server)
        await #expect(throws: UpstreamError.deadlineExceeded) { try await post(endpoint, deadlineMs: 200) }
        #expect(await eventually(server) { $0.closed == 1 })
        #expect(client.idleConnections(to: endpoint) == 0)
        await server.stop()
    }

    @Test("the server closes an idle connection: it leaves the pool, and the next request opens a fresh one")
    func serverClosesIdle() async throws {
        let server = try await ScriptedServer { index, _ in .wholeThenClose(body: "r\(index)", afterMs: 20) }
        let endpoint = try endpoint(server)
        #expect(String(buffer: try await post(endpoint).body) == "r0")
        #expect(await eventually(server) { $0.closed == 1 })
        #expect(await TestSupport.eventually(timeout: .seconds(15)) { client.idleConnections(to: endpoint) == 0 })
        #expect(String(buffer: try await post(endpoint).body) == "r1")
        #expect(server.seen.opened == 2)
        await server.stop()
    }

    @Test("a stream's parts arrive in order and its connection is reused after the end; breaking off closes it")
    func streaming() async throws {
        let server = try await ScriptedServer { index, _ in
            index < 2 ? .parts(["one ", "two ", "three"], delayMs: 10) : .parts((0..<50).map { "p\($0) " }, delayMs: 20)
        }
        let endpoint = try endpoint(server)
        for _ in 0..<2 {
            let response = try await client.postStreaming(endpoint, headers: [:], body: ByteBuffer(string: "{}"), deadline: .now() + .seconds(5), bodyDeadline: .now() + .seconds(10))
            #expect(String(buffer: try await response.body.collect(upTo: 1 << 20)) == "one two three")
        }
        #expect(server.seen.opened == 1)
        let response = try await client.postStreaming(endpoint, headers: [:], body: ByteBuffer(string: "{}"), deadline: .now() + .seconds(5), bodyDeadline: .now() + .seconds(10))
        var iterator = response.body.makeAsyncIterator()
        #expect(try await iterator.next().map { String(buffer: $0) } == "p0 ")
        _ = consume iterator
        #expect(await eventually(server) { $0.closed == 1 }, "the connection of a stream given up is closed")
        await server.stop()
    }

    @Test("a stream still running at its body deadline ends with deadlineExceeded and its connection closes")
    func streamDeadline() async throws {
        let server = try await ScriptedServer { _, _ in .parts((0..<50).map { "p\($0) " }, delayMs: 50) }
        let response = try await client.postStreaming(try endpoint(server), headers: [:], body: ByteBuffer(string: "{}"),
                                                      deadline: .now() + .seconds(5), bodyDeadline: .now() + .milliseconds(300))
        var parts = 0
        await #expect(throws: UpstreamError.deadlineExceeded) {
            for try await _ in response.body { parts += 1 }
        }
        #expect(parts < 50)
        #expect(await eventually(server) { $0.closed == 1 })
        await server.stop()
    }

    @Test("a consumer that stops reading holds the upstream back instead of buffering it")
    func backpressure() async throws {
        let server = try await ScriptedServer { _, _ in .flood(count: 512, size: 64 << 10) }
        let endpoint = try endpoint(server)
        let response = try await client.postStreaming(endpoint, headers: [:], body: ByteBuffer(string: "{}"), deadline: .now() + .seconds(5), bodyDeadline: .now() + .seconds(120))
        var iterator = response.body.makeAsyncIterator()
        _ = try await iterator.next()
        try await Task.sleep(for: .milliseconds(500))
        let held = server.seen.bytesWritten
        #expect(held < 16 << 20, "the server wrote \(held) bytes of 32 MiB while nobody read")
        // Reading again lets the server go on: it was held back, not stuck.
        var read = 0
        while read < 8 << 20, let part = try await iterator.next() { read += part.readableBytes }
        #expect(await eventually(server) { $0.bytesWritten > held }, "the server wrote nothing more once the consumer read again")
        await server.stop()
    }

    @Test("cancelling the caller ends the exchange with cancelled and closes the connection")
    func cancellation() async throws {
        let server = try await ScriptedServer { _, _ in .silence }
        let endpoint = try endpoint(server)
        let call = Task { try await post(endpoint, deadlineMs: 10_000) }
        #expect(await eventually(server) { $0.requests.count == 1 })
        call.cancel()
        await #expect(throws: UpstreamError.cancelled) { try await call.value }
        #expect(await eventually(server) { $0.closed == 1 })
        await server.stop()
    }

    @Test("a refused connection names the address; https speaks TLS first")
    func connectFailures() async throws {
        let server = try await ScriptedServer { _, _ in .silence }
        let port = server.port
        await server.stop()
        do {
            _ = try await post(try UpstreamEndpoint(url: "http://127.0.0.1:\(port)/v1"))
            Issue.record("a closed port answered")
        } catch let error as UpstreamError {
            guard case .connectFailed(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("http://127.0.0.1:\(port)"))
        }
        let listener = try await FirstBytesListener()
        await #expect(throws: UpstreamError.self) {
            _ = try await post(try UpstreamEndpoint(url: "https://localhost:\(listener.port)/v1"), deadlineMs: 5_000)
        }
        #expect(await listener.firstByte == 0x16, "a TLS handshake record")
    }

    @Test("base URLs: scheme, host, port and path parsed once; bad ones named")
    func endpoints() throws {
        let plain = try UpstreamEndpoint(url: "http://example.com/v1/", appendingPath: "/chat/completions")
        #expect(plain.target == "/v1/chat/completions" && plain.hostHeader == "example.com" && plain.origin.port == 80)
        let secure = try UpstreamEndpoint(url: "https://[::1]:8443", appendingPath: "/v1/messages")
        #expect(secure.origin == .init(tls: true, host: "::1", port: 8443) && secure.hostHeader == "[::1]:8443")
        #expect(secure.description == "https://[::1]:8443")
        #expect(throws: UpstreamError.self) { try UpstreamEndpoint(url: "ftp://example.com") }
        #expect(throws: UpstreamError.self) { try UpstreamEndpoint(url: "http:///nohost") }
    }
}

/// A TCP listener that records the first byte a client sends.
final class FirstBytesListener: Sendable {
    final class Received: Sendable {
        let byte = Mutex<UInt8?>(nil)
    }

    private let channel: any Channel
    private let received = Received()
    let port: Int

    init() async throws {
        let received = received
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FirstByteHandler(received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    /// The first byte received, waiting up to 15 s for it.
    var firstByte: UInt8? {
        get async {
            _ = await eventually(timeout: .seconds(15)) { received.byte.withLock { $0 } != nil }
            return received.byte.withLock { $0 }
        }
    }

    private final class FirstByteHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Received
        init(received: Received) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let first = unwrapInboundIn(data).getInteger(at: 0, as: UInt8.self)
            received.byte.withLock { if $0 == nil { $0 = first } }
            context.close(promise: nil)
        }
    }

    deinit { channel.close(promise: nil) }
}
