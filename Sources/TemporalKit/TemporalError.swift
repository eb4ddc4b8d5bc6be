import GRPCCore

/// A failed Temporal call, with a code the caller can act on.
public struct TemporalError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String { case unavailable, alreadyStarted, notFound, invalidArgument, timeout, badPayload, workflowFailed, nondeterminism, `internal` }
        let value: Value
        /// The server cannot be reached or stopped answering: the caller may fall back.
        public static let unavailable = Code(value: .unavailable)
        /// A workflow with that ID is running, or closed and may not be reused.
        public static let alreadyStarted = Code(value: .alreadyStarted)
        /// The namespace, workflow or task does not exist.
        public static let notFound = Code(value: .notFound)
        /// The server rejected the request's contents.
        public static let invalidArgument = Code(value: .invalidArgument)
        /// The caller's deadline passed before an answer.
        public static let timeout = Code(value: .timeout)
        /// A payload TokenHub cannot read.
        public static let badPayload = Code(value: .badPayload)
        /// The workflow closed without a result (failed, timed out, canceled, terminated).
        public static let workflowFailed = Code(value: .workflowFailed)
        /// The history does not match what the workflow code does.
        public static let nondeterminism = Code(value: .nondeterminism)
        /// Anything else.
        public static let `internal` = Code(value: .internal)
        /// The code's name.
        public var description: String { value.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, for logs and error responses.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Maps a gRPC failure: connection-level codes become `.unavailable`.
    init(rpc error: any Error, call: String) {
        guard let rpc = error as? RPCError else {
            self.init(.unavailable, "\(call): \(error)")
            return
        }
        let message = "\(call): \(rpc.code) \(rpc.message)"
        switch rpc.code {
        case .unavailable, .cancelled, .unknown, .resourceExhausted, .aborted: self.init(.unavailable, message)
        case .deadlineExceeded: self.init(.timeout, message)
        case .alreadyExists: self.init(.alreadyStarted, message)
        case .notFound: self.init(.notFound, message)
        case .invalidArgument, .failedPrecondition, .outOfRange: self.init(.invalidArgument, message)
        default: self.init(.internal, message)
        }
    }

    /// "code: message".
    public var description: String { "\(code): \(message)" }
}
