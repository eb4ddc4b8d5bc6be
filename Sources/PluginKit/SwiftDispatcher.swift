import PluginAPI

/// An error a Swift plugin reports from `init` or `start`; its message reaches the operator.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, naming the bad field where there is one.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// A dispatcher written in Swift. PluginKit turns it into the C `tokenhub_dispatch_vtable`.
///
/// THREAD: `chat` and `plan` are called concurrently from any task; `start` and `stop` once.
public protocol SwiftDispatcher: AnyObject, Sendable {
    /// Validates `configJSON` (the plugin's `config` object) and prepares; no network I/O.
    init(host: HostTable, configJSON: [UInt8]) throws
    /// Starts background work. Must return promptly.
    func start() throws
    /// Serves one chat request (ChatInput JSON) with a ChatOutput JSON reply.
    func chat(_ chatInputJSON: [UInt8]) async -> PluginReply
    /// Serves one orchestration (OrchestrationInput JSON) with a ChatOutput JSON reply.
    func plan(_ orchestrationInputJSON: [UInt8]) async -> PluginReply
    /// Stops accepting work and drains what is running.
    func stop() async
}
