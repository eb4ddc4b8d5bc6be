import HTTPTypes
import Hummingbird

/// Refuses request bodies the gateway cannot decode, before any route reads them: a
/// `Transfer-Encoding` other than plain `chunked` (e.g. `gzip, chunked`, which the HTTP parser
/// would otherwise de-chunk and hand on still compressed) is a 501, and a `Content-Encoding`
/// other than `identity` a 415. Both name the header and what is accepted.
struct CodingsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let transfer = request.headers[values: .transferEncoding].first(where: { !Self.isOnly("chunked", $0) }) {
            return APIError(.notImplemented, "Transfer-Encoding: only chunked is accepted, got \"\(transfer.prefix(100))\"",
                            code: "unsupported_transfer_encoding", param: "Transfer-Encoding").response
        }
        if let content = request.headers[values: .contentEncoding].first(where: { !Self.isOnly("identity", $0) }) {
            return APIError(.unsupportedMediaType, "Content-Encoding: send the body uncompressed (identity), got \"\(content.prefix(100))\"",
                            code: "unsupported_content_encoding", param: "Content-Encoding").response
        }
        return try await next(request, context)
    }

    /// Whether a header value lists exactly the one coding `coding` (case-insensitive).
    static func isOnly(_ coding: String, _ value: String) -> Bool {
        let codings = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        return codings == [coding]
    }
}
