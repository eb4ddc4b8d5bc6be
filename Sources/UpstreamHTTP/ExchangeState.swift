import NIOCore
import NIOHTTP1

/// One upstream connection's exchanges as a pure state machine: `UpstreamConnectionHandler`
/// feeds it what happens on the channel and performs the action it returns. One request at a
/// time (HTTP/1.1 without pipelining); between requests the connection is idle in the pool.
///
/// Each exchange has a generation number, so that a late signal meant for an earlier exchange
/// (its deadline firing, its stream's consumer going away after the connection was reused)
/// is recognised and ignored.
struct ExchangeState {
    /// How the caller takes the answer.
    enum Mode: Sendable {
        /// The whole body in one buffer, refused past `maxBytes`.
        case collect(maxBytes: Int)
        /// The head at once, then the body as it arrives, read on demand, ending with
        /// `deadlineExceeded` if it has not ended by `bodyDeadline`.
        case stream(bodyDeadline: NIODeadline)
    }

    enum State {
        case idle
        case awaitingHead(Mode)
        case collecting(HTTPResponseHead, body: ByteBuffer?, maxBytes: Int)
        case streaming(keepAlive: Bool)
        case closed
    }

    /// What to do once the exchange is over.
    enum After: Equatable {
        /// Back to the pool: the answer ended and both sides keep the connection alive.
        case release
        case close
    }

    /// What the handler does next.
    enum Action {
        case none
        /// Write the request (head, body, end) with one flush.
        case write
        /// Answer the waiting caller with an error.
        case fail(UpstreamError, After)
        /// Answer the waiting caller with the whole response.
        case succeed(HTTPResponseHead, ByteBuffer, After)
        /// Answer the waiting caller with the head and a body stream, and move the deadline
        /// to the body's.
        case deliverHead(HTTPResponseHead, bodyDeadline: NIODeadline)
        /// Pass a body part to the stream.
        case yield(ByteBuffer)
        /// End the stream, with an error when it did not end cleanly.
        case finishStream(UpstreamError?, After)
        case close
    }

    private(set) var state: State = .idle
    /// The current (or last) exchange.
    private(set) var generation: UInt64 = 0

    /// Whether a new exchange may start.
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// A caller starts exchange `generation` (counted by the connection's owner); `.write`
    /// when the connection can take it.
    mutating func start(_ mode: Mode, generation: UInt64) -> Action {
        guard case .idle = state else { return .fail(.notSent("the connection is not idle"), .close) }
        self.generation = generation
        state = .awaitingHead(mode)
        return .write
    }

    /// The request could not be written: nothing reached the server.
    mutating func writeFailed(_ reason: String) -> Action {
        guard case .awaitingHead = state else { return .none }
        state = .closed
        return .fail(.notSent(reason), .close)
    }

    mutating func head(_ head: HTTPResponseHead) -> Action {
        switch state {
        case .awaitingHead(.collect(let maxBytes)):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBytes {
                state = .closed
                return .fail(.bodyTooLarge(limit: maxBytes), .close)
            }
            state = .collecting(head, body: nil, maxBytes: maxBytes)
            return .none
        case .awaitingHead(.stream(let bodyDeadline)):
            state = .streaming(keepAlive: head.isKeepAlive)
            return .deliverHead(head, bodyDeadline: bodyDeadline)
        case .idle, .collecting, .streaming:
            // An answer nobody asked for, or a second head: the connection cannot be trusted.
            return failAndClose(.protocolError("an unexpected response head"))
        case .closed:
            return .none
        }
    }

    mutating func body(_ part: ByteBuffer) -> Action {
        switch state {
        case .collecting(let head, var body, let maxBytes):
            let total = (body?.readableBytes ?? 0) + part.readableBytes
            guard total <= maxBytes else {
                state = .closed
                return .fail(.bodyTooLarge(limit: maxBytes), .close)
            }
            if body == nil {
                body = part
            } else {
                var incoming = part
                body!.writeBuffer(&incoming)
            }
            state = .collecting(head, body: body, maxBytes: maxBytes)
            return .none
        case .streaming:
            return .yield(part)
        case .idle, .awaitingHead:
            return failAndClose(.protocolError("body bytes before a response head"))
        case .closed:
            return .none
        }
    }

    mutating func end() -> Action {
        switch state {
        case .collecting(let head, let body, _):
            let after: After = head.isKeepAlive ? .release : .close
            state = after == .release ? .idle : .closed
            return .succeed(head, body ?? ByteBuffer(), after)
        case .streaming(let keepAlive):
            let after: After = keepAlive ? .release : .close
            state = after == .release ? .idle : .closed
            return .finishStream(nil, after)
        case .idle, .awaitingHead:
            return failAndClose(.protocolError("a response end without a head"))
        case .closed:
            return .none
        }
    }

    /// The channel failed or closed, the deadline passed or the caller gave up: whatever is
    /// under way ends with `error` and the connection closes.
    mutating func failAndClose(_ error: UpstreamError) -> Action {
        let previous = state
        state = .closed
        switch previous {
        case .awaitingHead, .collecting: return .fail(error, .close)
        case .streaming: return .finishStream(error, .close)
        case .idle: return .close
        case .closed: return .none
        }
    }

    /// The deadline of exchange `generation` passed (the head's, then a stream's body's).
    mutating func deadlinePassed(generation: UInt64) -> Action {
        guard generation == self.generation else { return .none }
        switch state {
        case .awaitingHead, .collecting, .streaming: return failAndClose(.deadlineExceeded)
        case .idle, .closed: return .none
        }
    }

    /// The caller of exchange `generation` was cancelled, or its stream's consumer went away.
    mutating func abandoned(generation: UInt64) -> Action {
        guard generation == self.generation else { return .none }
        switch state {
        case .awaitingHead, .collecting, .streaming: return failAndClose(.cancelled)
        case .idle, .closed: return .none
        }
    }
}
