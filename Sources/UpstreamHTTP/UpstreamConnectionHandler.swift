import NIOCore
import NIOHTTP1

/// The last handler of an upstream connection's pipeline: writes a request, collects or
/// streams its answer, and performs what `ExchangeState` decides.
///
/// THREAD: every method runs on the channel's event loop; callers elsewhere hop there first
/// (`UpstreamConnection`). That is why it may be `@unchecked Sendable`.
final class UpstreamConnectionHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    typealias Body = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDelegate
    >
    typealias BodySource = Body.Source

    /// What the waiting caller receives.
    enum Answer {
        case whole(HTTPResponseHead, ByteBuffer)
        case streaming(HTTPResponseHead, Body)
    }

    private var exchange = ExchangeState()
    private var context: ChannelHandlerContext?
    private var continuation: CheckedContinuation<Answer, any Error>?
    private var deadlineTask: Scheduled<Void>?
    private var source: BodySource?
    /// The stream's consumer asked for a pause: reads wait until it asks for more.
    private var paused = false
    private var readPending = false
    /// The connection this handler serves, told when it is idle again or closed; set by
    /// the first exchange and dropped at close (the reference cycle ends there).
    private var owner: UpstreamConnection?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Starts exchange `generation` of `owner`: writes `head` and `body` with one flush and
    /// answers `continuation`.
    func start(_ owner: UpstreamConnection, generation: UInt64, head: HTTPRequestHead, body: ByteBuffer,
               mode: ExchangeState.Mode, deadline: NIODeadline, continuation: CheckedContinuation<Answer, any Error>) {
        guard let context, context.channel.isActive else {
            continuation.resume(throwing: UpstreamError.notSent("the connection had closed"))
            return
        }
        self.owner = owner
        self.continuation = continuation
        let action = exchange.start(mode, generation: generation)
        guard case .write = action else { return perform(action) }
        deadlineTask = context.eventLoop.scheduleTask(deadline: deadline) { [self] in
            perform(exchange.deadlinePassed(generation: generation))
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.whenFailure { [self] error in
            if exchange.generation == generation { perform(exchange.writeFailed("\(error)")) }
        }
    }

    /// The caller of exchange `generation` was cancelled or its stream's consumer went away.
    func abandon(generation: UInt64) {
        perform(exchange.abandoned(generation: generation))
    }

    /// The stream's consumer wants more body.
    func resumeReading(generation: UInt64) {
        guard generation == exchange.generation, paused else { return }
        paused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): perform(exchange.head(head))
        case .body(let part): perform(exchange.body(part))
        case .end: perform(exchange.end())
        }
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readPending = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure: UpstreamError = error is HTTPParserError
            ? .protocolError("\(error)") : .connectionClosed("\(error)")
        perform(exchange.failAndClose(failure))
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(exchange.failAndClose(.connectionClosed("the server closed it")))
        owner?.closed()
        owner = nil
        context.fireChannelInactive()
    }

    private func perform(_ action: ExchangeState.Action) {
        switch action {
        case .none, .write:
            break
        case .fail(let error, let after):
            finishExchange()
            continuation.take()?.resume(throwing: error)
            settle(after)
        case .succeed(let head, let body, let after):
            finishExchange()
            let continuation = continuation.take()
            settle(after)
            continuation?.resume(returning: .whole(head, body))
        case .deliverHead(let head, let bodyDeadline):
            finishExchange()
            let generation = exchange.generation
            deadlineTask = context!.eventLoop.scheduleTask(deadline: bodyDeadline) { [self] in
                perform(exchange.deadlinePassed(generation: generation))
            }
            let delegate = BodyDelegate(handler: self, generation: exchange.generation, eventLoop: context!.eventLoop)
            let body = Body.makeSequence(
                elementType: ByteBuffer.self, failureType: (any Error).self,
                backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
                finishOnDeinit: false, delegate: delegate)
            source = body.source
            continuation.take()?.resume(returning: .streaming(head, body.sequence))
        case .yield(let part):
            if source?.yield(part) == .stopProducing { paused = true }
        case .finishStream(let error, let after):
            finishExchange()
            let source = source.take()
            settle(after)  // first, so that whoever the end wakes finds the connection idle
            if let error { source?.finish(error) } else { source?.finish() }
        case .close:
            settle(.close)
        }
    }

    private func finishExchange() {
        deadlineTask?.cancel()
        deadlineTask = nil
    }

    private func settle(_ after: ExchangeState.After) {
        paused = false
        switch after {
        case .release:
            if readPending, let context {
                readPending = false
                context.read()
            }
            owner?.idle()
        case .close:
            context?.close(promise: nil)
        }
    }
}

/// Connects a body stream's demand to its connection: more demand resumes reading, a consumer
/// that goes away ends the exchange (and closes the connection, unless the body had ended).
struct BodyDelegate: NIOAsyncSequenceProducerDelegate {
    private let handler: UpstreamConnectionHandler
    private let generation: UInt64
    private let eventLoop: any EventLoop

    init(handler: UpstreamConnectionHandler, generation: UInt64, eventLoop: any EventLoop) {
        self.handler = handler
        self.generation = generation
        self.eventLoop = eventLoop
    }

    func produceMore() {
        let handler = handler, generation = generation
        eventLoop.execute { handler.resumeReading(generation: generation) }
    }

    func didTerminate() {
        let handler = handler, generation = generation
        eventLoop.execute { handler.abandon(generation: generation) }
    }
}
