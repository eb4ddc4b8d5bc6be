/// Why an upstream exchange failed. Descriptions name the upstream's address where it
/// matters and never carry request headers (which hold provider keys).
public enum UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The base URL cannot be used (the reason says which part).
    case invalidURL(String)
    /// No connection within the connect timeout.
    case connectTimeout(String)
    /// The connection was refused or failed (address and the system's reason).
    case connectFailed(String)
    /// The request never reached the server (the connection was closed before the write).
    case notSent(String)
    /// The server closed the connection, or the connection failed, before the answer ended.
    case connectionClosed(String)
    /// The answer did not come (or, when collected, did not end) before the deadline.
    case deadlineExceeded
    /// The answer's body is larger than the caller accepts.
    case bodyTooLarge(limit: Int)
    /// The server's bytes are not HTTP/1.1 as this client reads it.
    case protocolError(String)
    /// The caller's task was cancelled, or the consumer of a streamed body went away.
    case cancelled

    public var description: String {
        switch self {
        case .invalidURL(let reason): "invalid upstream URL: \(reason)"
        case .connectTimeout(let address): "no connection to \(address) within the connect timeout"
        case .connectFailed(let reason): "cannot connect: \(reason)"
        case .notSent(let reason): "the request was not sent: \(reason)"
        case .connectionClosed(let reason): "the connection closed before the answer ended: \(reason)"
        case .deadlineExceeded: "no answer before the deadline"
        case .bodyTooLarge(let limit): "the answer is larger than \(limit) bytes"
        case .protocolError(let reason): "the upstream broke HTTP/1.1: \(reason)"
        case .cancelled: "cancelled"
        }
    }
}
