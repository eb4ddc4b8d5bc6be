import Foundation

/// A thread that owns one SQLite connection and runs jobs on it, so blocking database calls
/// never run on the caller's threads (Swift's cooperative pool, NIO's event loops).
///
/// A writer worker commits in groups: it takes every job queued while the previous commit ran,
/// runs them in one transaction, and completes them after COMMIT. Log appends also open a
/// commit window: the worker holds their batch up to `commitWindow`, or until
/// `Self.windowFillRows` rows wait, so a trickle of requests shares commits too. Under load a
/// batch fills while the previous commit runs and nothing waits on a timer; a job that is not
/// a log append (an admin change) closes the window at once.
///
/// Why a window at all: every commit rewrites the WAL pages it touched (table leaves and each
/// index's insertion points, ~11 pages for one request's log row, reward and points). Rows that
/// share a commit share those pages, so fewer bytes go to disk per row and WAL checkpoints,
/// the only disk syncs with synchronous=NORMAL, come that many times less often.
///
/// Durability: a job's completion means its write is committed. An application crash loses
/// only writes whose completion has not fired (at most one window plus one commit of log
/// appends); with WAL and synchronous=NORMAL a power cut can also lose the last commits.
final class DatabaseWorker: @unchecked Sendable {
    private struct Job {
        let run: (SQLiteConnection) -> Void
        let finish: (SQLiteError?) -> Void
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    /// True while a queued job may not wait for the commit window.
    private var urgentQueued = false
    /// Log rows queued: enough of them close the window early.
    private var queuedLogRows = 0
    /// True while the worker holds a batch open; jobs that may wait then join it silently
    /// (waking the worker for each would cost a context switch per row).
    private var holding = false
    private var stopping = false
    private let groupCommit: Bool
    private let commitWindow: Duration
    private var connection: SQLiteConnection?

    /// Starts the worker's thread with `connection`, which it owns from now on. `commitWindow`
    /// (writers only) is the longest a batch of jobs that may wait is held for more.
    init(name: String, connection: SQLiteConnection, groupCommit: Bool, commitWindow: Duration = .zero) {
        self.groupCommit = groupCommit
        self.commitWindow = commitWindow
        self.connection = connection
        let thread = Thread { [self] in
            // Foundation does not name the thread on Linux; ps, top and perf show this name.
            try? String(name.prefix(15)).write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            loop()
        }
        thread.start()
    }

    /// Rows that make a batch worth committing without waiting out the window.
    static let windowFillRows = 64

    /// Runs `body` on the worker's connection; with group commit, returns after COMMIT.
    /// `logRows`: how many log rows the job appends; such a job may be held for the commit
    /// window (0, the default, for everything else: it is never held).
    func run<T: Sendable>(logRows: Int = 0, _ body: @escaping (SQLiteConnection) throws(SQLiteError) -> T) async -> Result<T, SQLiteError> {
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
            queuedLogRows += logRows
            if logRows == 0 { urgentQueued = true }
            if !holding || logRows == 0 || queuedLogRows >= Self.windowFillRows { condition.signal() }
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
            if commitWindow > .zero {
                let closes = Date(timeIntervalSinceNow: Double(commitWindow.components.seconds)
                                  + Double(commitWindow.components.attoseconds) / 1e18)
                holding = true
                while !urgentQueued && !stopping && queuedLogRows < Self.windowFillRows && condition.wait(until: closes) {}
                holding = false
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            urgentQueued = false
            queuedLogRows = 0
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
