import Foundation
import Glibc

/// Writes lines to a file descriptor or a file from its own thread, so that nothing on the
/// request path waits on the reader (a pipe to journald or a container runtime that stalls, a
/// slow disk). The host's own log and JSONLogTelemetry both write through one.
///
/// Callers format their line and queue it; the writer thread writes queued text in order, a
/// batch per `write(2)`. A line that finds the writer idle wakes it; the writer then lingers
/// `lingerWindow` (or until `lingerBytes` are queued) so that one wake-up and one `write(2)`
/// carry every line of that window: waking a thread per line cost a context switch and a
/// futex round trip per request under load (see the README's profile). The queue is one byte
/// buffer, reused between batches, so no line's memory is freed on another thread than the
/// one that made it. The queue is bounded (`capacityBytes`): past it, lines are dropped and
/// counted, and the next batch starts with `dropNotice(count)`, so a stuck reader costs lines,
/// never requests, and the loss is announced where the lines go. A failing write (disk full)
/// keeps its text and is retried, backing off to once a second.
///
/// A file is opened with `O_APPEND`; `reopen()` makes the thread close and reopen the
/// path between two batches (logrotate's `create` mode): each line lands once, in the old file
/// or the new one. `close(timeout:)` writes what is queued, then ends the thread.
///
/// THREAD: every method may be called from any thread.
public final class BackgroundLineWriter: @unchecked Sendable {
    /// The most bytes waiting to be written before lines are dropped.
    public let capacityBytes: Int

    /// The file's path; nil for a descriptor the caller owns.
    private let path: String?
    private let dropNotice: @Sendable (Int) -> String
    // NSCondition: the writer sleeps on it while the queue is empty; `flush` waits on it too.
    private let condition = NSCondition()
    private var queued: [UInt8] = []
    private var writing = false
    /// The writer thread waits for lines: the next line wakes it. While it is busy or
    /// lingering, lines are queued without a wake-up (at a high line rate, nearly all are).
    private var writerWaiting = false
    /// The writer thread waits for more lines before a batch; `lingerBytes` queued, a flush,
    /// a reopen or a close end the wait early.
    private var lingering = false
    /// How long the writer waits after a wake-up for more lines to join the batch.
    private let lingerWindow: TimeInterval
    private var batches = 0
    /// Queued bytes that end a linger early.
    static let lingerBytes = 64 << 10
    /// A reused batch buffer larger than this is released after its write (a burst's
    /// buffer is not kept for the process's lifetime).
    static let keptBufferBytes = 1 << 20
    /// `flush` and `close` callers waiting on the condition.
    private var otherWaiters = 0
    private var dropped = 0
    private var reopenRequested = false
    private var closing = false
    private var finished = false
    private var abandoned = false
    private var descriptor: Int32

    /// Starts a writer thread for `fileDescriptor` (stdout, stderr, a pipe), which stays owned
    /// by the caller.
    /// - Parameter lingerWindow: how long a wake-up waits for more lines before writing.
    public convenience init(fileDescriptor: Int32, capacityBytes: Int = 8 << 20, lingerWindow: Duration = .milliseconds(5),
                            threadName: String = "tokenhub-line-writer", dropNotice: @escaping @Sendable (Int) -> String) {
        self.init(descriptor: fileDescriptor, path: nil, capacityBytes: capacityBytes, lingerWindow: lingerWindow, threadName: threadName,
                  dropNotice: dropNotice)
    }

    /// Opens `path` for appending (created if missing, mode 0640) and starts a writer thread.
    /// - Throws: `OpenError` naming the path and the system's reason.
    public convenience init(path: String, capacityBytes: Int = 8 << 20, threadName: String = "tokenhub-line-writer",
                            dropNotice: @escaping @Sendable (Int) -> String) throws(OpenError) {
        self.init(descriptor: try Self.open(path), path: path, capacityBytes: capacityBytes, lingerWindow: .milliseconds(5), threadName: threadName,
                  dropNotice: dropNotice)
    }

    private init(descriptor: Int32, path: String?, capacityBytes: Int, lingerWindow: Duration, threadName: String,
                 dropNotice: @escaping @Sendable (Int) -> String) {
        self.lingerWindow = Self.seconds(lingerWindow)
        self.descriptor = descriptor
        self.path = path
        self.capacityBytes = capacityBytes
        self.dropNotice = dropNotice
        let thread = Thread { self.run() }
        thread.name = threadName
        thread.start()
    }

    /// Why a file could not be opened.
    public struct OpenError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot open \(path) for appending: \(reason)" }
    }

    /// Queues `text` (one or more whole lines). Returns false, dropping it, when the queue is
    /// full or the writer is closed.
    @discardableResult
    public func write(_ text: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closing, queued.count + text.utf8.count <= capacityBytes else {
            dropped += 1
            return false
        }
        queued.append(contentsOf: text.utf8)
        if writerWaiting || (lingering && queued.count >= Self.lingerBytes) { condition.broadcast() }
        return true
    }

    /// Asks the thread to reopen the file's path before its next batch (no-op for a
    /// descriptor). Lines queued before and after may land on either side, each exactly once.
    public func reopen() {
        condition.lock()
        defer { condition.unlock() }
        guard path != nil else { return }
        reopenRequested = true
        condition.broadcast()
    }

    /// Waits until every line queued before the call has been written, at most `timeout` (a
    /// reader that never reads must not keep the process from exiting). Returns whether it did.
    @discardableResult
    public func flush(timeout: Duration = .seconds(2)) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Self.seconds(timeout))
        condition.lock()
        otherWaiters += 1
        defer {
            otherWaiters -= 1
            condition.unlock()
        }
        if lingering { condition.broadcast() }
        while !queued.isEmpty || writing {
            guard condition.wait(until: deadline) else { return false }
        }
        return true
    }

    /// Refuses new lines, writes what is queued (at most `timeout`), ends the thread and closes
    /// the file (not a caller's descriptor). Returns whether everything queued was written.
    @discardableResult
    public func close(timeout: Duration = .seconds(5)) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Self.seconds(timeout))
        condition.lock()
        otherWaiters += 1
        defer {
            otherWaiters -= 1
            condition.unlock()
        }
        closing = true
        condition.broadcast()
        while !finished {
            guard condition.wait(until: deadline) else {
                // What is left cannot be written (a full disk): the thread ends at its next try.
                abandoned = true
                return false
            }
        }
        return true
    }

    /// Batches taken from the queue since start (each written with one `write(2)` unless
    /// the descriptor takes less).
    public var batchCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return batches
    }

    /// Lines dropped since start because the queue was full (or the writer closed).
    public var droppedLines: Int {
        condition.lock()
        defer { condition.unlock() }
        return dropped
    }

    private func run() {
        var reportedDrops = 0
        var pending: [UInt8] = []
        var failures = 0
        while true {
            condition.lock()
            while queued.isEmpty && pending.isEmpty && !reopenRequested && !closing {
                writerWaiting = true
                condition.wait()
                writerWaiting = false
            }
            if pending.isEmpty && !reopenRequested && !closing && otherWaiters == 0 && queued.count < Self.lingerBytes {
                lingering = true
                _ = condition.wait(until: Date(timeIntervalSinceNow: lingerWindow))
                lingering = false
            }
            if closing && ((queued.isEmpty && pending.isEmpty) || abandoned) {
                if path != nil { Glibc.close(descriptor) }
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let reopening = reopenRequested
            reopenRequested = false
            let lost = dropped - reportedDrops
            reportedDrops = dropped
            // The queue is swapped out (the emptied batch buffer, with its capacity, becomes
            // the new queue), so writers wait for no copying. Text a failed write left comes
            // first, then the drop notice, then the new lines.
            let carried = pending.count
            if pending.isEmpty {
                swap(&pending, &queued)
            } else {
                pending += queued
                queued.removeAll(keepingCapacity: true)
            }
            writing = true
            batches += 1
            condition.unlock()

            if lost > 0 { pending.insert(contentsOf: dropNotice(lost).utf8, at: carried) }

            if reopening, let path, let fresh = try? Self.open(path) {
                Glibc.close(descriptor)
                descriptor = fresh
            }
            pending.removeFirst(writeAll(pending))
            if pending.isEmpty {
                failures = 0
                if pending.capacity > Self.keptBufferBytes { pending = [] }
            } else {
                // Kept for the next round; closing gives up after its timeout.
                failures += 1
                usleep(UInt32(min(1_000_000, 10_000 << min(failures, 7))))
            }

            condition.lock()
            writing = !pending.isEmpty
            if otherWaiters > 0 { condition.broadcast() }
            condition.unlock()
        }
    }

    /// Writes `bytes`; returns how many were written (all, unless the descriptor failed).
    private func writeAll(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count > 0 {
                    offset += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            return offset
        }
    }

    private static func open(_ path: String) throws(OpenError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw OpenError(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
