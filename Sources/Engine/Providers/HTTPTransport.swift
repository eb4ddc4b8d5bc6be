import NIOCore
import NIOHTTP1
import TokenHubCore
import UpstreamHTTP

/// The HTTP plumbing every adapter shares: one pooled client, JSON requests with a deadline,
/// and the mapping of transport errors to error classes.
struct HTTPTransport: Sendable {
    let client: UpstreamClient

    /// The largest provider answer read into memory.
    static let maxBodyBytes = 32 << 20

    /// Parses a provider's base URLs once (an adapter keeps the result), with `path` appended;
    /// a URL that cannot be used fails every call with a fatal error naming it.
    static func endpoints(_ urls: [String], path: String) -> Result<[UpstreamEndpoint], ProviderFailure> {
        do {
            let endpoints = try urls.map { (url) throws(UpstreamError) in try UpstreamEndpoint(url: url, appendingPath: path) }
            return endpoints.isEmpty ? .failure(ProviderFailure(.fatal, "the provider has no base_url")) : .success(endpoints)
        } catch {
            return .failure(ProviderFailure(.fatal, "\(error)"))
        }
    }

    private func request(headers: [(String, String)], body: JSONValue) -> (HTTPHeaders, ByteBuffer) {
        var fields = HTTPHeaders()
        fields.reserveCapacity(headers.count + 4)
        fields.add(name: "content-type", value: "application/json")
        for (name, value) in headers { fields.add(name: name, value: value) }
        let traceparent = ProviderCallTrace.traceparent
        if !traceparent.isEmpty { fields.add(name: "traceparent", value: traceparent) }
        return (fields, ByteBuffer(bytes: body.serialized))
    }

    private static func deadline(after timeout: Duration) -> NIODeadline {
        .now() + .milliseconds(Int64(max(1, timeout.wholeMilliseconds)))
    }

    /// POSTs `body` and reads the whole JSON answer: JSON on 2xx, a classified failure otherwise.
    func postJSON(to endpoint: UpstreamEndpoint, headers: [(String, String)], body: JSONValue, timeout: Duration) async
        -> Result<JSONValue, ProviderFailure>
    {
        let (fields, bytes) = request(headers: headers, body: body)
        let response: UpstreamClient.Response
        do {
            response = try await client.post(endpoint, headers: fields, body: bytes,
                                             deadline: Self.deadline(after: timeout), maxBodyBytes: Self.maxBodyBytes)
        } catch {
            return .failure(Self.transportFailure(error))
        }
        guard (200..<300).contains(response.status.code) else {
            return .failure(ErrorClassifier.classify(
                status: Int(response.status.code), body: String(buffer: response.body),
                retryAfterHeader: response.headers.first(name: "retry-after")))
        }
        guard let json = try? JSONValue.parse(response.body.readableBytesView), case .object = json else {
            return .failure(ProviderFailure(.transient, "upstream answered \(response.status.code) with a body that is not a JSON object", status: Int(response.status.code)))
        }
        return .success(json)
    }

    /// POSTs `body` and, on a 2xx answer, streams its server-sent events as parsed JSON
    /// (`data: [DONE]` ends the stream; lines that are not JSON are skipped). A non-2xx answer
    /// is read and classified before any event, so the engine can still fail over. Ending the
    /// iteration early (the client went away) closes the upstream connection.
    ///
    /// The stream is read on demand (`EventStreamReader`): the upstream is read only as fast
    /// as the client takes events, so a slow client holds back the upstream (TCP backpressure)
    /// instead of growing a buffer. It ends with `StreamDeadlineExceeded` at `deadline`, so
    /// an upstream that stalls or never ends cannot hold a client past its deadline.
    func postEventStream(to endpoint: UpstreamEndpoint, headers: [(String, String)], body: JSONValue, timeout: Duration,
                         deadline: ContinuousClock.Instant) async
        -> Result<AsyncThrowingStream<JSONValue, any Error>, ProviderFailure>
    {
        let (fields, bytes) = request(headers: headers, body: body)
        let response: UpstreamClient.StreamingResponse
        do {
            response = try await client.postStreaming(endpoint, headers: fields, body: bytes, deadline: Self.deadline(after: timeout),
                                                      bodyDeadline: Self.deadline(after: deadline - .now))
        } catch {
            return .failure(Self.transportFailure(error))
        }
        guard (200..<300).contains(response.status.code) else {
            let text = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
            return .failure(ErrorClassifier.classify(
                status: Int(response.status.code), body: text, retryAfterHeader: response.headers.first(name: "retry-after")))
        }
        let reader = EventStreamReader(body: response.body)
        return .success(AsyncThrowingStream(unfolding: { try await reader.next() }))
    }

    static func transportFailure(_ error: any Error) -> ProviderFailure {
        switch error as? UpstreamError {
        case .cancelled?: return ProviderFailure(.fatal, "cancelled")
        case .deadlineExceeded?, .connectTimeout?: return ProviderFailure(.transient, "upstream timed out (\(error))")
        case .bodyTooLarge?, .protocolError?: return ProviderFailure(.transient, "upstream answer refused: \(error)")
        case let error?: return ProviderFailure(.transient, "upstream unreachable: \(error)")
        case nil:
            if error is CancellationError { return ProviderFailure(.fatal, "cancelled") }
            return ProviderFailure(.transient, "upstream unreachable: \(error)")
        }
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
/// no buffer beyond the events of the last network read. The client ends the body at the
/// request's deadline, which the reader reports as `StreamDeadlineExceeded`.
///
/// THREAD: used by one consumer at a time (the stream's iteration is sequential).
final class EventStreamReader: @unchecked Sendable {
    private var iterator: UpstreamBody.AsyncIterator
    private var parser = SSEParser()
    private var pending: [JSONValue] = []
    private var pendingIndex = 0
    private var finished = false

    init(body: UpstreamBody) {
        iterator = body.makeAsyncIterator()
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
            let buffer: ByteBuffer?
            do {
                buffer = try await iterator.next()
            } catch UpstreamError.deadlineExceeded {
                throw StreamDeadlineExceeded()
            }
            guard let buffer else {
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
}
