import Foundation
import HTTPTypes
import Hummingbird
import TokenHubCore

/// An error answer in OpenAI's shape, `{"error":{"message","type","code","param"}}`, which
/// every client endpoint uses so that OpenAI SDKs surface the message as is.
public struct APIError: Error, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// What went wrong, naming the field and what was expected.
    public var message: String
    /// OpenAI's error type: invalid_request_error, upstream_error, server_error...
    public var type: String
    /// A machine-readable code, e.g. the error class.
    public var code: String?
    /// The offending field's path (OpenAI calls it `param`), e.g. `policy.max_budget_usd`.
    public var param: String?
    /// Extra headers, e.g. Retry-After.
    public var headers: HTTPFields = [:]

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error", code: String? = nil, param: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
    }

    /// A 400 naming `field`.
    public static func invalidField(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, "\(field): \(message)", code: "invalid_field", param: field)
    }

    /// The JSON response.
    public var response: Response {
        var error: [String: JSONValue] = ["message": .string(message), "type": .string(type)]
        error["code"] = code.map(JSONValue.string) ?? .null
        error["param"] = param.map(JSONValue.string) ?? .null
        var response = JSONResponse.make(status: status, JSONValue.object(["error": .object(error)]))
        for field in headers { response.headers.append(field) }
        return response
    }
}

/// Builds JSON responses.
public enum JSONResponse {
    /// `value` as the body of a response with `status`.
    public static func make(status: HTTPResponse.Status = .ok, _ value: JSONValue) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serialized)))
    }
}
