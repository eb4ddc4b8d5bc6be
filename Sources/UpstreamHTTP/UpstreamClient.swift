import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A pooled HTTP/1.1 client for calling LLM providers: POST a JSON body, take the whole
/// answer or stream it. Written for the gateway's hot path instead of AsyncHTTPClient, which
/// it replaced after a profile of the direct path put that client at the top of the gateway's
/// own costs (README, "CPU per request"): a request is one write (head and body flushed
/// together), the answer resumes its caller once, a connection is picked on the caller's own
/// event loop where one is idle, and the endpoint is parsed once per provider, not per call.
///
/// It does what a provider call needs and no more: no redirects (a 3xx is an answer), no
/// compression, no proxies, no HTTP/2. Every answer is bounded: by the deadline until the
/// whole body (or, when streaming, the head) arrived, by `maxBodyBytes` when collected, and by
/// the response decoder's header limits.
///
/// THREAD: all methods may be called concurrently.
public final class UpstreamClient: Sendable {
    /// Connection settings.
    public struct Configuration: Sendable {
        /// The longest wait for a connection (further bounded by each request's deadline).
        public var connectTimeout: TimeAmount = .seconds(5)
        /// How long an idle keep-alive connection is kept.
        public var idleTimeout: TimeAmount = .seconds(60)
        /// Idle connections kept per origin; more are closed when their answer ends.
        public var maxIdlePerOrigin = 512
        /// TLS for `https` endpoints (system trust roots by default).
        public var tls: TLSConfiguration = .makeClientConfiguration()

        public init() {}
    }

    /// A whole answer.
    public struct Response: Sendable {
        public var status: HTTPResponseStatus
        public var headers: HTTPHeaders
        public var body: ByteBuffer
    }

    /// An answer whose body is read as the caller iterates it (the upstream is read only as
    /// fast as that). Dropping the iteration before the end closes the connection.
    public struct StreamingResponse: Sendable {
        public var status: HTTPResponseStatus
        public var headers: HTTPHeaders
        public var body: UpstreamBody
    }

    private let group: any EventLoopGroup
    private let configuration: Configuration
    private let pool: ConnectionPool
    /// Made at the first `https` request: loading trust roots costs, and most setups never need it.
    private let tlsContext = Mutex<Result<NIOSSLContext, UpstreamError>?>(nil)

    /// A client on `group` (NIO's shared event loops by default).
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, configuration: Configuration = .init()) {
        self.group = group
        self.configuration = configuration
        pool = ConnectionPool(idleTimeout: configuration.idleTimeout, maxIdlePerOrigin: configuration.maxIdlePerOrigin)
    }

    /// POSTs `body` to `endpoint` and reads the whole answer, whatever its status.
    /// - Throws: `UpstreamError` only.
    public func post(_ endpoint: UpstreamEndpoint, headers: HTTPHeaders, body: ByteBuffer,
                     deadline: NIODeadline, maxBodyBytes: Int) async throws -> Response {
        switch try await exchange(endpoint, headers: headers, body: body, mode: .collect(maxBytes: maxBodyBytes), deadline: deadline) {
        case .whole(let head, let body):
            return Response(status: head.status, headers: head.headers, body: body)
        case .streaming:
            preconditionFailure("a collected exchange answered with a stream")
        }
    }

    /// POSTs `body` to `endpoint` and returns once the answer's head arrived, by `deadline`;
    /// the body follows through the response's `body`, which ends with
    /// `UpstreamError.deadlineExceeded` if it has not ended by `bodyDeadline`.
    /// - Throws: `UpstreamError` only.
    public func postStreaming(_ endpoint: UpstreamEndpoint, headers: HTTPHeaders, body: ByteBuffer,
                              deadline: NIODeadline, bodyDeadline: NIODeadline) async throws -> StreamingResponse {
        let mode = ExchangeState.Mode.stream(bodyDeadline: bodyDeadline)
        switch try await exchange(endpoint, headers: headers, body: body, mode: mode, deadline: deadline) {
        case .streaming(let head, let body):
            return StreamingResponse(status: head.status, headers: head.headers, body: UpstreamBody(body))
        case .whole:
            preconditionFailure("a streamed exchange answered whole")
        }
    }

    /// Idle connections kept for `endpoint`'s origin (for tests and diagnostics).
    public func idleConnections(to endpoint: UpstreamEndpoint) -> Int {
        pool.idleCount(endpoint.origin)
    }

    private func exchange(_ endpoint: UpstreamEndpoint, headers: HTTPHeaders, body: ByteBuffer,
                          mode: ExchangeState.Mode, deadline: NIODeadline) async throws -> UpstreamConnectionHandler.Answer {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.target, headers: headers)
        head.headers.replaceOrAdd(name: "host", value: endpoint.hostHeader)
        head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        let loop = MultiThreadedEventLoopGroup.currentEventLoop
        if let pooled = pool.take(endpoint.origin, preferring: loop) {
            do {
                return try await pooled.exchange(head: head, body: body, mode: mode, deadline: deadline)
            } catch UpstreamError.notSent {
                // The server closed it while it was idle: nothing was sent, so a fresh
                // connection may carry the request.
            }
        }
        let connection = try await connect(endpoint, on: loop ?? group.next(), deadline: deadline)
        return try await connection.exchange(head: head, body: body, mode: mode, deadline: deadline)
    }

    private func connect(_ endpoint: UpstreamEndpoint, on loop: any EventLoop, deadline: NIODeadline) async throws -> UpstreamConnection {
        let origin = endpoint.origin
        let tls = origin.tls ? try sslContext() : nil
        let serverName = (try? SocketAddress(ipAddress: origin.host, port: 0)) == nil ? origin.host : nil
        let handler = UpstreamConnectionHandler()
        let timeout = min(configuration.connectTimeout, max(.milliseconds(1), deadline - .now()))
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        do {
            let channel = try await bootstrap.connect(host: origin.host, port: origin.port).get()
            return UpstreamConnection(channel: channel, handler: handler, origin: origin, pool: pool)
        } catch ChannelError.connectTimeout {
            throw UpstreamError.connectTimeout("\(endpoint)")
        } catch {
            throw UpstreamError.connectFailed("\(endpoint): \(error)")
        }
    }

    private func sslContext() throws -> NIOSSLContext {
        let result = tlsContext.withLock { context in
            if let context { return context }
            let made: Result<NIOSSLContext, UpstreamError>
            do {
                made = .success(try NIOSSLContext(configuration: configuration.tls))
            } catch {
                made = .failure(.connectFailed("TLS cannot be set up: \(error)"))
            }
            context = made
            return made
        }
        return try result.get()
    }
}

/// The body of a streamed answer, read on demand.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    private let parts: UpstreamConnectionHandler.Body

    init(_ parts: UpstreamConnectionHandler.Body) { self.parts = parts }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts.makeAsyncIterator()) }

    /// Each part as it arrives; the stream's error (an `UpstreamError`) when it ended badly.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private var parts: UpstreamConnectionHandler.Body.AsyncIterator

        init(_ parts: UpstreamConnectionHandler.Body.AsyncIterator) { self.parts = parts }

        public mutating func next() async throws -> ByteBuffer? { try await parts.next() }
    }

    /// Reads the rest of the body, at most `maxBytes` (more is an error).
    public func collect(upTo maxBytes: Int) async throws -> ByteBuffer {
        var whole = ByteBuffer()
        for try await var part in self {
            guard whole.readableBytes + part.readableBytes <= maxBytes else { throw UpstreamError.bodyTooLarge(limit: maxBytes) }
            whole.writeBuffer(&part)
        }
        return whole
    }
}
