import PluginKit
import TokenHubCore

/// Why a store operation failed, as the caller should see it.
public struct StoreFailure: Error, Sendable, CustomStringConvertible {
    /// What failed, naming the server or file, never a password.
    public var message: String
    /// True when the backend cannot be reached (the host may retry later), false for an
    /// error a retry would repeat.
    public var unavailable: Bool
    public init(_ message: String, unavailable: Bool = false) {
        self.message = message
        self.unavailable = unavailable
    }
    public var description: String { message }
}

/// A store whose operations arrive parsed: it implements `perform`, and gets `call` (the
/// ABI's named operations with their JSON) from this extension, with the same answers for
/// unknown operations and bad input on every backend.
public protocol OperationStore: SwiftStore {
    /// Runs one operation; its answer is the operation's result JSON.
    func perform(_ operation: StoreOperation) async -> Result<JSONValue, StoreFailure>
}

extension OperationStore {
    public func call(operation name: String, requestJSON: [UInt8]) async -> PluginReply {
        let operation: StoreOperation
        do throws(PayloadError) {
            guard let parsed = try StoreOperation(name: name, input: requestJSON) else {
                return .failure(.notSupported, "unknown operation \"\(name)\"")
            }
            operation = parsed
        } catch {
            return .failure(.invalidArgument, "\(name): \(error.message)")
        }
        switch await perform(operation) {
        case .success(let value): return PluginReply(status: .ok, result: value.serialized)
        case .failure(let failure): return .failure(failure.unavailable ? .unavailable : .internal, "\(name): \(failure.message)")
        }
    }
}
