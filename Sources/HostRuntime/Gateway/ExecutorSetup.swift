import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Process-wide setup that must happen before any task runs.
public enum ExecutorSetup {
    /// Runs Swift concurrency's global executor on NIO's event-loop threads, so a request
    /// moves between the HTTP server, the engine, the plugins and the provider client without
    /// hopping between two thread pools (each hop is a thread wake-up on the request path).
    /// Call once, first thing in `main`, on the main thread.
    /// `TOKENHUB_EVENT_LOOPS` overrides the thread count (default: one per core);
    /// For comparisons (`bench/executor.sh`): `TOKENHUB_GLOBAL_EXECUTOR=default` keeps Swift's own
    /// executor, `TOKENHUB_GLOBAL_EXECUTOR=nio` uses NIO's takeover described below.
    ///
    /// Why not `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`:
    /// it runs every job *isolated to the event loop's serial executor*. Nonisolated async code
    /// must run on the generic executor, so each of its executor checks then re-enqueues the
    /// task: measured here, 85 global enqueues per echo request instead of 6. This hook runs
    /// each job the way Swift's own global executor does, isolated to the generic executor, on
    /// the event loop's thread, so nonisolated code continues where it is.
    @discardableResult
    public static func adoptEventLoopsAsGlobalExecutor(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if environment["TOKENHUB_GLOBAL_EXECUTOR"] == "default" {
            outcome.withLock { $0 = "Swift's default global executor (TOKENHUB_GLOBAL_EXECUTOR=default)" }
            return false
        }
        if let text = environment["TOKENHUB_EVENT_LOOPS"], let count = Int(text), count > 0 {
            NIOSingletons.groupLoopCountSuggestion = count
        }
        if environment["TOKENHUB_GLOBAL_EXECUTOR"] == "nio" {
            let installed = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            outcome.withLock { $0 = "NIO's event-loop takeover, loop isolation (TOKENHUB_GLOBAL_EXECUTOR=nio; installed: \(installed))" }
            return installed
        }
        let installed = EventLoopGlobalExecutor.install()
        outcome.withLock {
            $0 = installed
                ? "Swift concurrency runs on NIO's \(NIOSingletons.groupLoopCountSuggestion) event loop(s), generic isolation"
                : "Swift's default global executor (the event-loop hook could not be installed)"
        }
        return installed
    }

    /// What `adoptEventLoopsAsGlobalExecutor` did, for the startup log.
    public static var description: String { outcome.withLock { $0 } }

    private static let outcome = Mutex("Swift's default global executor (no executor setup ran)")
}

/// The concurrency runtime's entry point that runs a job isolated to a serial executor; the
/// global executor passes the generic executor (`SerialExecutorRef::generic()`, all zeros).
@_silgen_name("swift_job_run")
private func runJob(_ job: UnownedJob, _ executor: UnownedSerialExecutor)

/// The hook that sends global jobs to the event loops.
enum EventLoopGlobalExecutor {
    /// The concurrency runtime's `swift_task_enqueueGlobal_hook` signature.
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    private static let installed = Atomic(false)

    /// The generic executor's reference: two null words, the runtime's stable ABI.
    private static let generic = unsafeBitCast((0, 0) as (Int, Int), to: UnownedSerialExecutor.self)

    /// Installs the hook on the runtimes it was checked against (Swift 6.0 to 6.3: the hook's
    /// signature, `swift_job_run`, and the generic executor as two null words); on any other
    /// it installs nothing and Swift's own executor runs, and `ExecutorSetupTests` fails until
    /// the hook is checked against the new runtime and this range widened.
    static func install() -> Bool {
        #if compiler(>=6.0) && !compiler(>=6.4)
        return installHook()
        #else
        return false
        #endif
    }

    private static func installHook() -> Bool {
        guard MemoryLayout<UnownedSerialExecutor>.size == MemoryLayout<(Int, Int)>.size else { return false }
        guard installed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return false }
        guard let hookAddress = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook") else { return false }
        let hookSlot = hookAddress.assumingMemoryBound(to: UnsafeRawPointer?.self)
        let hook: EnqueueGlobalHook = { job, _ in
            // `any()` is the current loop when called on one (no thread switch), else the next.
            MultiThreadedEventLoopGroup.singleton.any().execute { runJob(job, EventLoopGlobalExecutor.generic) }
        }
        return withUnsafePointer(to: hook) { hookPointer in
            hookPointer.withMemoryRebound(to: UnsafeRawPointer.self, capacity: 1) { raw in
                // Set once, before any task is started (the caller's contract), so a plain
                // store is enough.
                guard hookSlot.pointee == nil else { return false }
                hookSlot.pointee = raw.pointee
                return true
            }
        }
    }
}
