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
        let data = Data(buffer: buffer)
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw APIError(.badRequest, "request body is not valid JSON: \(describe(error))", code: "invalid_json")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }
}
