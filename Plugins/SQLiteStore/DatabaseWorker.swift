import Foundation

/// A thread that owns one SQLite connection and runs jobs on it, so blocking database calls
/// never run on the caller's threads (Swift's cooperative pool, NIO's event loops).
///
/// A writer worker commits in groups: it takes every job queued while the previous commit ran,
/// runs them in one transaction, and completes them after COMMIT. The batching window is thus
/// the duration of one commit: nothing waits on a timer, and under load many appends share one
/// disk sync. A job's completion means its write is committed; a crash loses only writes
/// whose completion has not fired (with WAL and synchronous=NORMAL, a power cut can also lose
/// the last committed transactions; an application crash cannot).
final class DatabaseWorker: @unchecked Sendable {
    private struct Job {
        let run: (SQLiteConnection) -> Void
        let finish: (SQLiteError?) -> Void
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var stopping = false
    private let groupCommit: Bool
    private var connection: SQLiteConnection?

    /// Starts the worker's thread with `connection`, which it owns from now on.
    init(name: String, connection: SQLiteConnection, groupCommit: Bool) {
        self.groupCommit = groupCommit
        self.connection = connection
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the worker's connection; with group commit, returns after COMMIT.
    func run<T: Sendable>(_ body: @escaping (SQLiteConnection) throws(SQLiteError) -> T) async -> Result<T, SQLiteError> {
        await withCheckedContinuation { continuation in
            nonisolated(unsafe) var result: Result<T, SQLiteError>?
            let job = Job(
                run: { connection in
                    do throws(SQLiteError) { result = .success(try body(connection)) } catch { result = .failure(error) }
                },
                finish: { commitError in
                    if let commitError { continuation.resume(returning: .failure(commitError)) }
                    else { continuation.resume(returning: result ?? .failure(SQLiteError(message: "job did not run"))) }
                })
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(returning: .failure(SQLiteError(message: "the store is stopping")))
                return
            }
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    /// Runs every queued job, then ends the thread and closes the connection.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            stopping = true
            jobs.append(Job(run: { _ in }, finish: { _ in continuation.resume() }))
            condition.signal()
            condition.unlock()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            let finished = stopping
            condition.unlock()
            guard let connection else { return }
            execute(batch, on: connection)
            if finished {
                self.connection = nil
                return
            }
        }
    }

    private func execute(_ batch: [Job], on connection: SQLiteConnection) {
        guard groupCommit, batch.count > 0 else {
            for job in batch { job.run(connection); job.finish(nil) }
            return
        }
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch {
            for job in batch { job.finish(error) }
            return
        }
        for job in batch { job.run(connection) }
        do {
            try connection.execute("COMMIT")
            for job in batch { job.finish(nil) }
        } catch {
            try? connection.execute("ROLLBACK")
            for job in batch { job.finish(error) }
        }
    }
}
