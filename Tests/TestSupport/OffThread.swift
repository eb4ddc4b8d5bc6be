import Foundation

/// Runs blocking work (waiting for a child process, a pipe or a semaphore) on a thread of its
/// own and resumes the caller when it is done.
///
/// Tests call this instead of blocking directly: Swift Testing runs suites in parallel on the
/// cooperative pool, which has one thread per CPU, and a test that blocks one of them stalls
/// every other test's timers with it.
public func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
