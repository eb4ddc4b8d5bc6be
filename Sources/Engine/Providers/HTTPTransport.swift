import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TokenHubCore

/// The HTTP plumbing every adapter shares: one pooled client, JSON requests with a deadline,
/// and the mapping of transport errors to error classes.
struct HTTPTransport: Sendable {
    let client: HTTPClient

    /// The largest provider answer read into memory.
    static let maxBodyBytes = 32 << 20

    /// POSTs `body` as JSON; the answer's status, headers and the open response.
    func post(url: String, headers: [(String, String)], body: JSONValue, timeout: Duration) async
        -> Result<HTTPClientResponse, ProviderFailure>
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body.serialized))
        do {
            return .success(try await client.execute(request, timeout: .milliseconds(Int64(max(1, timeout.wholeMilliseconds)))))
        } catch {
            return .failure(Self.transportFailure(error))
        }
    }

    /// Reads a whole answer: JSON on 2xx, a classified failure otherwise.
    func readJSON(_ response: HTTPClientResponse) async -> Result<JSONValue, ProviderFailure> {
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            return .failure(Self.transportFailure(error))
        }
        guard (200..<300).contains(response.status.code) else {
            return .failure(ErrorClassifier.classify(
                status: Int(response.status.code), body: String(buffer: body),
                retryAfterHeader: response.headers.first(name: "retry-after")))
        }
        guard let json = try? JSONValue.parse(body.readableBytesView), case .object = json else {
            return .failure(ProviderFailure(.transient, "upstream answered \(response.status.code) with a body that is not a JSON object", status: Int(response.status.code)))
        }
        return .success(json)
    }

    /// POSTs `body` and reads the whole JSON answer.
    func postJSON(url: String, headers: [(String, String)], body: JSONValue, timeout: Duration) async -> Result<JSONValue, ProviderFailure> {
        switch await post(url: url, headers: headers, body: body, timeout: timeout) {
        case .failure(let failure): return .failure(failure)
        case .success(let response): return await readJSON(response)
        }
    }

    /// POSTs `body` and, on a 2xx answer, streams its server-sent events as parsed JSON
    /// (`data: [DONE]` ends the stream; lines that are not JSON are skipped). A non-2xx answer
    /// is read and classified before any event, so the engine can still fail over. Ending the
    /// iteration early (the client went away) cancels the upstream request.
    ///
    /// The stream is read on demand (`EventStreamReader`): the upstream is read only as fast
    /// as the client takes events, so a slow client holds back the upstream (TCP backpressure)
    /// instead of growing a buffer. It ends with `StreamDeadlineExceeded` at `deadline`, so
    /// an upstream that stalls or never ends cannot hold a client past its deadline.
    func postEventStream(url: String, headers: [(String, String)], body: JSONValue, timeout: Duration,
                         deadline: ContinuousClock.Instant) async
        -> Result<AsyncThrowingStream<JSONValue, any Error>, ProviderFailure>
    {
        let response: HTTPClientResponse
        switch await post(url: url, headers: headers, body: body, timeout: timeout) {
        case .failure(let failure): return .failure(failure)
        case .success(let value): response = value
        }
        guard (200..<300).contains(response.status.code) else {
            let text = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
            return .failure(ErrorClassifier.classify(
                status: Int(response.status.code), body: text, retryAfterHeader: response.headers.first(name: "retry-after")))
        }
        let reader = EventStreamReader(body: response.body, deadline: deadline)
        return .success(AsyncThrowingStream(unfolding: { try await reader.next() }))
    }

    static func transportFailure(_ error: any Error) -> ProviderFailure {
        if error is CancellationError { return ProviderFailure(.fatal, "cancelled") }
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return ProviderFailure(.transient, "upstream timed out (\(error))")
        }
        return ProviderFailure(.transient, "upstream unreachable: \(error)")
    }

    /// The time left before `deadline`, capped by the provider's own timeout.
    static func timeout(until deadline: ContinuousClock.Instant, cap: Int) -> Duration {
        min(deadline - .now, .milliseconds(cap))
    }
}

/// An upstream stream that did not end before the request's deadline.
public struct StreamDeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var description: String { "the upstream stream did not end before the request's deadline" }
}

/// Reads an upstream event stream one event at a time, on demand: no task of its own and
/// no buffer beyond the events of the last network read. Each read races the deadline.
///
/// THREAD: used by one consumer at a time (the stream's iteration is sequential).
final class EventStreamReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var parser = SSEParser()
    private var pending: [JSONValue] = []
    private var pendingIndex = 0
    private var finished = false
    private let deadline: ContinuousClock.Instant

    init(body: HTTPClientResponse.Body, deadline: ContinuousClock.Instant) {
        iterator = body.makeAsyncIterator()
        self.deadline = deadline
    }

    /// The next event; nil at the end of the stream (or `[DONE]`).
    func next() async throws -> JSONValue? {
        while true {
            if pendingIndex < pending.count {
                defer { pendingIndex += 1 }
                return pending[pendingIndex]
            }
            if finished { return nil }
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            guard let buffer = try await read() else {
                finished = true
                return nil
            }
            for event in try parser.feed(buffer.readableBytesView) {
                if event.data == "[DONE]" {
                    finished = true
                    break
                }
                if let json = try? JSONValue.parse(event.data) { pending.append(json) }
            }
        }
    }

    /// One network read, or `StreamDeadlineExceeded` when the deadline comes first (the read
    /// is then cancelled, which cancels the upstream request).
    private func read() async throws -> ByteBuffer? {
        guard ContinuousClock.now < deadline else { throw StreamDeadlineExceeded() }
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await self.iterator.next() }
            group.addTask {
                try await Task.sleep(until: self.deadline, clock: .continuous)
                throw StreamDeadlineExceeded()
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
