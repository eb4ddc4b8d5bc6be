import Foundation
import Hummingbird
import TokenHubCore

/// Reads a request body as JSON, within the configured size limit and time. (A body that stops
/// arriving is closed by the server's idle timeout; one that trickles in is cut off here when
/// its total read time passes `server.body_timeout_ms`.)
enum JSONBody {
    static func read(_ request: Request, server: ServerConfig) async throws(APIError) -> JSONValue {
        let limit = server.bodyLimitBytes
        let deadline = ContinuousClock.now + .milliseconds(server.bodyTimeoutMs)
        var buffer = ByteBuffer()
        do {
            for try await chunk in request.body {
                guard buffer.readableBytes + chunk.readableBytes <= limit else {
                    throw APIError(.contentTooLarge, "request body is larger than the limit of \(limit) bytes", code: "body_too_large")
                }
                guard ContinuousClock.now < deadline else {
                    throw APIError(.requestTimeout, "request body took longer than \(server.bodyTimeoutMs) ms to arrive", code: "body_timeout")
                }
                var chunk = chunk
                buffer.writeBuffer(&chunk)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "request body could not be read: \(error)", code: "invalid_body")
        }
        guard buffer.readableBytes > 0 else { throw APIError(.badRequest, "request body is empty; expected a JSON object", code: "invalid_json") }
        do {
            return try JSONValue.parse(buffer.readableBytesView)
        } catch {
            throw APIError(.badRequest, "request body is not valid JSON: \(error)", code: "invalid_json")
        }
    }
}
