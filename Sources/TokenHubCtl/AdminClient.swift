import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TokenHubCore

/// Why a command failed, and the exit status it means: 1 the server said no, 2 bad usage,
/// 3 the server could not be reached.
struct CtlFailure: Error, CustomStringConvertible {
    enum Kind: Int32 { case refused = 1, usage = 2, unreachable = 3 }
    var kind: Kind
    var message: String
    var description: String { message }

    static func usage(_ message: String) -> Self { Self(kind: .usage, message: message) }
}

/// The admin API over HTTP: JSON in, JSON out, the admin token as a bearer header (never in a
/// URL, never printed).
struct AdminClient: Sendable {
    let baseURL: String
    let token: String

    /// Sends one request; answers the JSON body (`.null` for none). A non-2xx answer throws
    /// `.refused` with the server's own message; a connection failure throws `.unreachable`.
    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, needsToken: Bool = true) async throws -> JSONValue {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if needsToken {
            guard !token.isEmpty else {
                throw CtlFailure.usage("no admin token: set TOKENHUB_ADMIN_TOKEN or pass --token (the server's server.admin_token)")
            }
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.serialized))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw CtlFailure(kind: .unreachable, message: "cannot reach TokenHub at \(baseURL) (\(error)); check --url or TOKENHUB_URL")
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let json = bytes.readableBytes == 0 ? JSONValue.null : ((try? JSONValue.parse(Array(bytes.readableBytesView))) ?? .string(String(buffer: bytes)))
        guard (200..<300).contains(response.status.code) else {
            let message = json["error"]?["message"]?.stringValue ?? json.stringValue ?? "\(response.status)"
            let hint = response.status.code == 401 || response.status.code == 403 ? " (check TOKENHUB_ADMIN_TOKEN or --token)" : ""
            throw CtlFailure(kind: .refused, message: "\(method) \(path): \(response.status.code) \(message)\(hint)")
        }
        return json
    }

    /// Streams `path` as Server-Sent Events, handing each event's type and data to `body`.
    func events(_ path: String, _ body: (String, JSONValue) throws -> Void) async throws {
        var request = HTTPClientRequest(url: baseURL + path)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365))
        } catch {
            throw CtlFailure(kind: .unreachable, message: "cannot reach TokenHub at \(baseURL) (\(error)); check --url or TOKENHUB_URL")
        }
        guard response.status == .ok else {
            throw CtlFailure(kind: .refused, message: "GET \(path): \(response.status.code) (check TOKENHUB_ADMIN_TOKEN or --token)")
        }
        var buffer = ""
        for try await chunk in response.body {
            buffer += String(buffer: chunk)
            while let end = buffer.range(of: "\n\n") {
                var type = "message", data = ""
                for line in buffer[..<end.lowerBound].split(separator: "\n") {
                    if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
                }
                buffer.removeSubrange(..<end.upperBound)
                if !data.isEmpty { try body(type, (try? JSONValue.parse(Array(data.utf8))) ?? .string(data)) }
            }
        }
    }
}

extension TimeAmount {
    static func hours(_ hours: Int64) -> TimeAmount { .seconds(hours * 3600) }
}
