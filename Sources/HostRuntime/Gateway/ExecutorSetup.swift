import NIOCore
import NIOPosix

/// Process-wide setup that must happen before any task runs.
public enum ExecutorSetup {
    /// Runs Swift concurrency's global executor on NIO's event-loop threads, so a request
    /// moves between the HTTP server, the engine, the plugins and the provider client without
    /// hopping between two thread pools (each hop is a thread wake-up on the request path).
    /// Call once, first thing in `main`, on the main thread.
    @discardableResult
    public static func adoptEventLoopsAsGlobalExecutor() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
