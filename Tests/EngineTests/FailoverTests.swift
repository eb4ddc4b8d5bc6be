import Engine
import Foundation
import Testing
import TokenHubCore

@Suite("Failover state machine (no I/O)")
struct FailoverTests {
    func candidate(_ id: String, context: Int = 8000) -> RouteCandidate {
        RouteCandidate(model: ModelSpec(id: id, providerID: "p", maxContextTokens: context), provider: ProviderSpec(id: "p", type: .echo),
                       estimatedCostUSD: 0, score: 0, reason: "routed-weight-5")
    }

    @Test("context overflow escalates to a larger window, skipping smaller ones")
    func contextOverflow() {
        var state = FailoverState(candidates: [candidate("small", context: 8000), candidate("tiny", context: 4000), candidate("big", context: 128_000)])
        let action = state.next(after: ProviderFailure(.contextOverflow, "too long"), timeLeft: .seconds(10))
        #expect(action == .switchTo(candidate("big", context: 128_000), reason: "escalated-context-overflow"))
        #expect(state.next(after: ProviderFailure(.contextOverflow, "still"), timeLeft: .seconds(10)) == .giveUp)
    }

    @Test("rate limited moves on; alone, it waits out a short Retry-After only")
    func rateLimited() {
        var two = FailoverState(candidates: [candidate("a"), candidate("b")])
        #expect(two.next(after: ProviderFailure(.rateLimited, "429"), timeLeft: .seconds(10)) == .switchTo(candidate("b"), reason: "failover-rate-limited"))
        var alone = FailoverState(candidates: [candidate("a")])
        #expect(alone.next(after: ProviderFailure(.rateLimited, "429", retryAfter: .seconds(1)), timeLeft: .seconds(10))
                == .retry(after: .seconds(1), reason: "retried-rate-limited"))
        var longWait = FailoverState(candidates: [candidate("a")])
        #expect(longWait.next(after: ProviderFailure(.rateLimited, "429", retryAfter: .seconds(30)), timeLeft: .seconds(60)) == .giveUp)
    }

    @Test("transient retries the same model twice with exponential backoff, then moves on")
    func transient() {
        var state = FailoverState(candidates: [candidate("a"), candidate("b")])
        #expect(state.next(after: ProviderFailure(.transient, "503"), timeLeft: .seconds(10), jitter: 1) == .retry(after: .milliseconds(100), reason: "retried-transient"))
        #expect(state.next(after: ProviderFailure(.transient, "503"), timeLeft: .seconds(10), jitter: 1) == .retry(after: .milliseconds(200), reason: "retried-transient"))
        #expect(state.next(after: ProviderFailure(.transient, "503"), timeLeft: .seconds(10), jitter: 1) == .switchTo(candidate("b"), reason: "failover-transient"))
    }

    @Test("fatal moves to the next model; never more than 5 attempts; never past the deadline")
    func limits() {
        var state = FailoverState(candidates: (1...8).map { candidate("m\($0)") })
        var switches = 0
        while case .switchTo = state.next(after: ProviderFailure(.fatal, "401"), timeLeft: .seconds(10)) { switches += 1 }
        #expect(switches == 4)
        #expect(state.attempts == 5)
        var late = FailoverState(candidates: [candidate("a"), candidate("b")])
        #expect(late.next(after: ProviderFailure(.fatal, "x"), timeLeft: .zero) == .giveUp)
    }
    @Test("a transient Retry-After longer than the time left is never slept: the state moves on or gives up")
    func transientRetryAfterCappedByDeadline() {
        var alone = FailoverState(candidates: [candidate("only")])
        #expect(alone.next(after: ProviderFailure(.transient, "503", retryAfter: .seconds(3600)), timeLeft: .seconds(2)) == .giveUp)
        var two = FailoverState(candidates: [candidate("a"), candidate("b")])
        #expect(two.next(after: ProviderFailure(.transient, "503", retryAfter: .seconds(3600)), timeLeft: .seconds(2))
            == .switchTo(candidate("b"), reason: "failover-transient"))
        var short = FailoverState(candidates: [candidate("only")])
        #expect(short.next(after: ProviderFailure(.transient, "503", retryAfter: .milliseconds(300)), timeLeft: .seconds(2))
            == .retry(after: .milliseconds(300), reason: "retried-transient"))
    }
}

@Suite("Error classification, SSE parsing, health")
struct ClassificationTests {
    @Test("status codes and bodies map to error classes")
    func classify() {
        #expect(ErrorClassifier.classify(status: 429, body: "", retryAfterHeader: "3").errorClass == .rateLimited)
        #expect(ErrorClassifier.classify(status: 429, body: "", retryAfterHeader: "3").retryAfter == .seconds(3))
        #expect(ErrorClassifier.classify(status: 400, body: #"{"code":"context_length_exceeded"}"#, retryAfterHeader: nil).errorClass == .contextOverflow)
        #expect(ErrorClassifier.classify(status: 400, body: "prompt is too long: 300000 tokens", retryAfterHeader: nil).errorClass == .contextOverflow)
        #expect(ErrorClassifier.classify(status: 400, body: "bad temperature", retryAfterHeader: nil).errorClass == .fatal)
        #expect(ErrorClassifier.classify(status: 401, body: "", retryAfterHeader: nil).errorClass == .fatal)
        for status in [500, 502, 503, 504, 529, 408] {
            #expect(ErrorClassifier.classify(status: status, body: "", retryAfterHeader: nil).errorClass == .transient)
        }
    }

    @Test("Retry-After as an HTTP date")
    func retryAfterDate() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        let later = "Mon, 12 Jan 1970 13:46:50 GMT"  // now + 10 s
        #expect(ErrorClassifier.parseRetryAfter(later, now: now) == .seconds(10))
    }

    @Test("SSE events split across reads, comments and CRLF")
    func sse() throws {
        var parser = SSEParser()
        #expect(try parser.feed(Array("data: {\"a\"".utf8)).isEmpty)
        let events = try parser.feed(Array(":1}\r\n\r\n: comment\n\nevent: x\ndata: [DONE]\n\n".utf8))
        #expect(events.map(\.data) == ["{\"a\":1}", "[DONE]"])
        #expect(events.map(\.name) == ["", "x"])
    }

    @Test("SSE: a line without end and an event too large are errors, not unbounded buffers; byte-at-a-time feeds parse alike")
    func sseBounds() throws {
        var endless = SSEParser()
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
        var overflowed = false
        for _ in 0..<40 {
            do { _ = try endless.feed(chunk) } catch { overflowed = true; break }
        }
        #expect(overflowed, "a 2.5 MB line without a newline was buffered")
        var big = SSEParser()
        let line = Array(("data: " + String(repeating: "y", count: 1000) + "\n").utf8)
        #expect(throws: SSEParser.Overflow.self) {
            for _ in 0..<5000 { _ = try big.feed(line) }
        }
        var slow = SSEParser()
        var events: [SSEParser.Event] = []
        for byte in Array("data: 1\n\ndata: 2\r\n\r\n".utf8) { events += try slow.feed([byte]) }
        #expect(events.map(\.data) == ["1", "2"])
    }

    @Test("health: degraded after 2 errors, down after 5 for the cooldown, decaying error rate")
    func health() {
        var health = ProviderHealth()
        let start = ContinuousClock.now
        #expect(health.record(success: false, latencyMs: 10, at: start) == nil)
        #expect(health.record(success: false, latencyMs: 10, at: start) == .degraded)
        for _ in 0..<2 { _ = health.record(success: false, latencyMs: 10, at: start) }
        #expect(health.record(success: false, latencyMs: 10, at: start) == .down)
        #expect(health.view(at: start).isDown)
        #expect(health.currentState(at: start + .seconds(31)) == .degraded)
        #expect(health.record(success: false, latencyMs: 10, at: start + .seconds(31)) == .down, "one error after the cooldown takes it down again")
        #expect(health.record(success: true, latencyMs: 100, at: start + .seconds(62)) == .healthy)
        let rateNow = health.errorRate(at: start + .seconds(62))
        #expect(rateNow > 0.5)
        #expect(health.errorRate(at: start + .seconds(62 + 600)) == rateNow, "a ratio of decayed counts keeps its value without new calls")
        for second in 0..<100 { _ = health.record(success: true, latencyMs: 100, at: start + .seconds(62 + 300 + second)) }
        #expect(health.errorRate(at: start + .seconds(500)) < 0.1, "old errors stop counting")
    }

    @Test("Retry-After values that overflowed before (1e300, huge dates) clamp instead of trapping")
    func hugeRetryAfter() {
        let huge = ErrorClassifier.classify(status: 429, body: "", retryAfterHeader: "1e300")
        #expect(huge.errorClass == .rateLimited)
        #expect(huge.retryAfter == .seconds(86_400 * 365))
        #expect(ErrorClassifier.parseRetryAfter("-5") == nil)
        #expect(ErrorClassifier.parseRetryAfter("nan") == .zero || ErrorClassifier.parseRetryAfter("nan") == nil)
        #expect(ErrorClassifier.parseRetryAfter("inf") == .seconds(86_400 * 365))
        #expect(ErrorClassifier.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT") == .seconds(86_400 * 365))
        #expect(ErrorClassifier.parseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT") == .zero)
    }
}
