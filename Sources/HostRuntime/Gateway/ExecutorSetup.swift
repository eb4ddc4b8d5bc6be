import Foundation
import NIOCore
import NIOPosix

/// Process-wide setup that must happen before any task runs.
public enum ExecutorSetup {
    /// Runs Swift concurrency's global executor on NIO's event-loop threads, so a request
    /// moves between the HTTP server, the engine, the plugins and the provider client without
    /// hopping between two thread pools (each hop is a thread wake-up on the request path).
    /// Call once, first thing in `main`, on the main thread.
    /// `TOKENHUB_EVENT_LOOPS` overrides the thread count (default: one per core);
    /// `TOKENHUB_GLOBAL_EXECUTOR=default` keeps Swift's own executor (for comparisons).
    @discardableResult
    public static func adoptEventLoopsAsGlobalExecutor(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if environment["TOKENHUB_GLOBAL_EXECUTOR"] == "default" { return false }
        if let text = environment["TOKENHUB_EVENT_LOOPS"], let count = Int(text), count > 0 {
            NIOSingletons.groupLoopCountSuggestion = count
        }
        return NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
