import Foundation
import NIOCore

/// Where an upstream lives: parsed once from a base URL (an adapter keeps it), so no request
/// parses a URL.
public struct UpstreamEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Which connections may carry requests to this endpoint.
    struct Origin: Sendable, Hashable {
        var tls: Bool
        var host: String
        var port: Int
    }

    let origin: Origin
    /// The request target (path and query), starting with `/`.
    public let target: String
    /// The `Host` header: the host, with the port when it is not the scheme's default.
    let hostHeader: String

    /// Parses `url` (`http://` or `https://`, a host, an optional port and path) and appends
    /// `path` to its path.
    public init(url: String, appendingPath path: String = "") throws(UpstreamError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .invalidURL("\(url.debugDescription) is not a URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw .invalidURL("scheme \(scheme.debugDescription) in \(url.debugDescription); expected http or https")
        }
        guard var host = components.host, !host.isEmpty else {
            throw .invalidURL("\(url.debugDescription) has no host")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let tls = scheme == "https"
        let defaultPort = tls ? 443 : 80
        let port = components.port ?? defaultPort
        guard (1...65_535).contains(port) else { throw .invalidURL("port \(port) in \(url.debugDescription)") }
        var base = components.percentEncodedPath
        while base.hasSuffix("/") { base.removeLast() }
        var target = base + path
        if !target.hasPrefix("/") { target = "/" + target }
        if let query = components.percentEncodedQuery { target += "?" + query }
        origin = Origin(tls: tls, host: host, port: port)
        self.target = target
        let hostName = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? hostName : "\(hostName):\(port)"
    }

    /// `scheme://host:port`, for messages (never a path or query, which may hold a secret).
    public var description: String {
        "\(origin.tls ? "https" : "http")://\(hostHeader)"
    }
}
