import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing
import TokenHubCore

/// A real HTTP client for the tests, answering with status and parsed JSON.
struct HTTPTestClient: Sendable {
    struct Answer {
        var status: Int
        var headers: [(String, String)]
        var body: Data
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: body) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    let baseURL: String
    /// Sent with every request (e.g. the admin token's Authorization).
    var defaultHeaders: [String: String] = [:]

    /// A client that sends `testAdminToken` with every request.
    static func admin(_ baseURL: String) -> HTTPTestClient {
        HTTPTestClient(baseURL: baseURL, defaultHeaders: ["Authorization": "Bearer \(testAdminToken)"])
    }

    func get(_ path: String) async throws -> Answer {
        try await send(HTTPClientRequest(url: baseURL + path))
    }

    func post(_ path: String, body: String) async throws -> Answer {
        try await post(path, bytes: Array(body.utf8))
    }

    func post(_ path: String, body: String, headers: [String: String]) async throws -> Answer {
        try await post(path, bytes: Array(body.utf8), headers: headers)
    }

    func post(_ path: String, bytes: [UInt8], headers: [String: String] = [:]) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        return try await send(request)
    }

    /// Any method, path and body (nil: none), with extra headers.
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: Array(body.utf8)))
        }
        return try await send(request)
    }

    private func send(_ request: HTTPClientRequest) async throws -> Answer {
        var request = request
        for (name, value) in defaultHeaders where !request.headers.contains(name: name) { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Data(body.readableBytesView))
    }
}

/// The admin token of tests that use the admin API without testing the token itself
/// (`RunningTokenhub(configPath:environment: adminEnvironment)`, `HTTPTestClient.admin`).
let testAdminToken = "test-admin-token-0123456789"
let adminEnvironment = ["TOKENHUB_ADMIN_TOKEN": testAdminToken]

/// Writes a config file for a test into a fresh directory and returns its path.
func writeConfig(_ yaml: String) throws -> String {
    let path = try TestPaths.makeTemporaryDirectory().appendingPathComponent("config.yaml").path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// The echo provider and model every test config uses.
let echoRegistryYAML = """
providers:
  - id: echo
    type: echo
models:
  - id: echo-1
    provider: echo
"""

/// One request to `server` with `method`, an optional body and extra headers (the admin and
/// key tests send them header by header); the whole answer, up to 1 MB.
func send(_ server: RunningTokenhub, _ method: HTTPMethod, _ path: String, body: String? = nil,
          headers: [(String, String)] = []) async throws -> HTTPTestClient.Answer {
    var request = HTTPClientRequest(url: server.baseURL + path)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return .init(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Data(bytes.readableBytesView))
}

/// Reads SSE frames from `path` until `stop` says so (at most 30 s); returns them.
func frames(_ server: RunningTokenhub, _ path: String = "/admin/v1/events", lastEventID: String? = nil,
            until stop: @escaping @Sendable ([[String: String]]) -> Bool) async throws -> [[String: String]] {
    var request = HTTPClientRequest(url: server.baseURL + path)
    request.headers.add(name: "Authorization", value: "Bearer \(testAdminToken)")
    if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    #expect(response.status == .ok)
    #expect(response.headers.first(name: "content-type") == "text/event-stream")
    var buffer = "", parsed: [[String: String]] = []
    for try await chunk in response.body {
        buffer += String(buffer: chunk)
        while let end = buffer.range(of: "\n\n") {
            let block = buffer[..<end.lowerBound]
            buffer.removeSubrange(..<end.upperBound)
            var frame: [String: String] = [:]
            for line in block.split(separator: "\n") where !line.hasPrefix(":") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { frame[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
            if !frame.isEmpty { parsed.append(frame) }
        }
        if stop(parsed) { break }
    }
    return parsed
}
