import Foundation
import Hummingbird
import TokenHubCore

/// Reads a request body as JSON, with the configured size limit.
enum JSONBody {
    static func read(_ request: Request, limit: Int) async throws(APIError) -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "request body is larger than the limit of \(limit) bytes", code: "body_too_large")
        }
        guard buffer.readableBytes > 0 else { throw APIError(.badRequest, "request body is empty; expected a JSON object", code: "invalid_json") }
        do {
            return try JSONValue.parse(buffer.readableBytesView)
        } catch {
            throw APIError(.badRequest, "request body is not valid JSON: \(error)", code: "invalid_json")
        }
    }
}
