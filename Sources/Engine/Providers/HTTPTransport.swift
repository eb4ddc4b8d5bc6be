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
            let milliseconds = max(1, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
            return .success(try await client.execute(request, timeout: .milliseconds(Int64(milliseconds))))
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
    func postEventStream(url: String, headers: [(String, String)], body: JSONValue, timeout: Duration) async
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
        return .success(AsyncThrowingStream { continuation in
            let task = Task {
                var parser = SSEParser()
                do {
                    for try await buffer in response.body {
                        for event in parser.feed(buffer.readableBytesView) {
                            if event.data == "[DONE]" { continuation.finish(); return }
                            if let json = try? JSONValue.parse(event.data) { continuation.yield(json) }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        })
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
