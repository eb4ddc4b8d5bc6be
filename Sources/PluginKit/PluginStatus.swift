import PluginAPI

/// The ABI's status codes as a Swift enum (`TOKENHUB_OK`, `TOKENHUB_ERR_*`).
public enum PluginStatus: Int32, Sendable, Hashable, CustomStringConvertible {
    case ok = 0
    case invalidArgument = -1
    case unavailable = -2
    case upstream = -3
    case notSupported = -4
    case cancelled = -5
    case timeout = -6
    case `internal` = -7
    /// Since 1.3.
    case notFound = -8

    /// Maps any raw code; codes this build does not know are `.internal`.
    public init(code: tokenhub_status) {
        self = PluginStatus(rawValue: code) ?? .internal
    }

    /// The raw C value.
    public var code: tokenhub_status { rawValue }

    /// The C constant's name, for messages.
    public var description: String {
        switch self {
        case .ok: "TOKENHUB_OK"
        case .invalidArgument: "TOKENHUB_ERR_INVALID_ARGUMENT"
        case .unavailable: "TOKENHUB_ERR_UNAVAILABLE"
        case .upstream: "TOKENHUB_ERR_UPSTREAM"
        case .notSupported: "TOKENHUB_ERR_NOT_SUPPORTED"
        case .cancelled: "TOKENHUB_ERR_CANCELLED"
        case .timeout: "TOKENHUB_ERR_TIMEOUT"
        case .internal: "TOKENHUB_ERR_INTERNAL"
        case .notFound: "TOKENHUB_ERR_NOT_FOUND"
        }
    }
}

/// What an asynchronous ABI call completed with: a status, result bytes and a message,
/// all copied out of the callback's borrowed slices.
public struct PluginReply: Sendable, Hashable {
    /// The status the callee reported.
    public var status: PluginStatus
    /// The result JSON (may be empty on error).
    public var result: [UInt8]
    /// The error message ("" on success).
    public var message: String

    /// Creates a reply.
    public init(status: PluginStatus, result: [UInt8] = [], message: String = "") {
        self.status = status
        self.result = result
        self.message = message
    }

    /// A reply carrying `message` and no result.
    public static func failure(_ status: PluginStatus, _ message: String) -> PluginReply {
        PluginReply(status: status, message: message)
    }

    /// Hands this reply to a C completion callback. The slices are valid during the call only.
    public func deliver(to done: tokenhub_completion_fn, userData: UnsafeMutableRawPointer?) {
        result.withUnsafeBufferPointer { resultBytes in
            var message = message
            message.withUTF8 { messageBytes in
                done(
                    userData, status.code,
                    tokenhub_slice(ptr: resultBytes.baseAddress, len: resultBytes.count),
                    tokenhub_slice(ptr: messageBytes.baseAddress, len: messageBytes.count)
                )
            }
        }
    }
}

/// The ABI's asynchronous-call contract in one place: the caller's borrowed slices are
/// already copied into `work`; this returns at once and hands `work`'s reply to `done` exactly
/// once, from a task. `work` runs even without a `done` (a `stop` must still stop).
public func completeLater(
    _ done: tokenhub_completion_fn?, _ userData: UnsafeMutableRawPointer?,
    _ work: @escaping @Sendable () async -> PluginReply
) {
    let userData = CUserData(userData)
    Task {
        let reply = await work()
        if let done { reply.deliver(to: done, userData: userData.pointer) }
    }
}
