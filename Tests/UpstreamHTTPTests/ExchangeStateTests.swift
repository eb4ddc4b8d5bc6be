import NIOCore
import NIOHTTP1
import Testing
@testable import UpstreamHTTP

@Suite("Upstream exchange state machine")
struct ExchangeStateTests {
    func head(_ headers: [(String, String)] = [], version: HTTPVersion = .http1_1) -> HTTPResponseHead {
        HTTPResponseHead(version: version, status: .ok, headers: HTTPHeaders(headers))
    }

    @Test("a collected answer is handed over whole at its end, and a keep-alive connection goes back to the pool")
    func collect() {
        var state = ExchangeState()
        guard case .write = state.start(.collect(maxBytes: 10), generation: 1) else { Issue.record("no write"); return }
        guard case .none = state.head(head()) else { Issue.record("head"); return }
        guard case .none = state.body(ByteBuffer(string: "hello ")) else { Issue.record("body"); return }
        guard case .none = state.body(ByteBuffer(string: "you")) else { Issue.record("body"); return }
        guard case .succeed(_, let body, .release) = state.end() else { Issue.record("end"); return }
        #expect(String(buffer: body) == "hello you")
        #expect(state.isIdle)
    }

    @Test("Connection: close or HTTP/1.0 ends the connection after the answer")
    func notKeepAlive() {
        for response in [head([("connection", "close")]), head(version: .http1_0)] {
            var state = ExchangeState()
            _ = state.start(.collect(maxBytes: 10), generation: 1)
            _ = state.head(response)
            guard case .succeed(_, _, .close) = state.end() else { Issue.record("kept a closing connection"); return }
            #expect(!state.isIdle)
        }
    }

    @Test("too large: refused at a declared length before any byte, or when the bytes pass the limit")
    func tooLarge() {
        var declared = ExchangeState()
        _ = declared.start(.collect(maxBytes: 10), generation: 1)
        guard case .fail(.bodyTooLarge(limit: 10), .close) = declared.head(head([("content-length", "11")])) else {
            Issue.record("declared length accepted"); return
        }
        var counted = ExchangeState()
        _ = counted.start(.collect(maxBytes: 10), generation: 1)
        _ = counted.head(head())
        _ = counted.body(ByteBuffer(string: "123456"))
        guard case .fail(.bodyTooLarge(limit: 10), .close) = counted.body(ByteBuffer(string: "78901")) else {
            Issue.record("counted bytes accepted"); return
        }
        guard case .none = counted.end() else { Issue.record("an end after the failure did something"); return }
    }

    @Test("a late deadline or cancel of an earlier exchange does nothing to the next one")
    func generations() {
        var state = ExchangeState()
        _ = state.start(.collect(maxBytes: 10), generation: 1)
        _ = state.head(head())
        _ = state.end()
        _ = state.start(.collect(maxBytes: 10), generation: 2)
        guard case .none = state.deadlinePassed(generation: 1) else { Issue.record("old deadline acted"); return }
        guard case .none = state.abandoned(generation: 1) else { Issue.record("old cancel acted"); return }
        guard case .fail(.deadlineExceeded, .close) = state.deadlinePassed(generation: 2) else { Issue.record("deadline ignored"); return }
    }

    @Test("streams: the head is delivered with the body's deadline, parts are yielded, a consumer leaving or the deadline closes the connection")
    func stream() {
        var state = ExchangeState()
        _ = state.start(.stream(bodyDeadline: .uptimeNanoseconds(42)), generation: 7)
        guard case .deliverHead(_, bodyDeadline: .uptimeNanoseconds(42)) = state.head(head()) else { Issue.record("head not delivered"); return }
        guard case .yield(let part) = state.body(ByteBuffer(string: "x")) else { Issue.record("part not yielded"); return }
        #expect(String(buffer: part) == "x")
        guard case .finishStream(.cancelled?, .close) = state.abandoned(generation: 7) else { Issue.record("not closed"); return }

        var late = ExchangeState()
        _ = late.start(.stream(bodyDeadline: .distantFuture), generation: 1)
        _ = late.head(head())
        guard case .finishStream(.deadlineExceeded?, .close) = late.deadlinePassed(generation: 1) else { Issue.record("deadline ignored"); return }
    }

    @Test("bytes nobody asked for break the connection; a failed write reports that nothing was sent")
    func protocolErrors() {
        var idle = ExchangeState()
        guard case .close = idle.head(head()) else { Issue.record("unsolicited head accepted"); return }
        var writing = ExchangeState()
        _ = writing.start(.stream(bodyDeadline: .distantFuture), generation: 1)
        guard case .fail(.notSent, .close) = writing.writeFailed("reset") else { Issue.record("write failure"); return }
        var busy = ExchangeState()
        _ = busy.start(.stream(bodyDeadline: .distantFuture), generation: 1)
        guard case .fail(.notSent, _) = busy.start(.stream(bodyDeadline: .distantFuture), generation: 2) else { Issue.record("two exchanges at once"); return }
    }
}
