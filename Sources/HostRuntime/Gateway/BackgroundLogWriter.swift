import Foundation
import Glibc
import Logging

/// Writes log text to a file descriptor from its own thread, so that no event loop waits on
/// the log's reader (a pipe to journald or a container runtime that stalls, a slow disk).
///
/// Callers format their line and queue it; the writer thread writes queued text in order.
/// The queue is bounded (`capacityBytes`): past it, lines are dropped and counted, and the
/// next line written says how many were lost, so a stuck reader costs log lines, never
/// requests. `flush()` waits until everything queued is written; the process flushes at exit.
///
/// THREAD: `write` and `flush` may be called from any thread. A writer and its thread live for
/// the rest of the process.
public final class BackgroundLogWriter: @unchecked Sendable {
    /// The process's standard error, flushed at exit.
    public static let standardError: BackgroundLogWriter = {
        let writer = BackgroundLogWriter(fileDescriptor: STDERR_FILENO)
        atexit { BackgroundLogWriter.standardError.flush() }
        return writer
    }()

    /// The most bytes waiting to be written before lines are dropped.
    public let capacityBytes: Int

    private let fileDescriptor: Int32
    // NSCondition: the writer sleeps on it while the queue is empty; `flush` waits on it too.
    private let condition = NSCondition()
    private var queued: [String] = []
    private var queuedBytes = 0
    private var writing = false
    private var dropped = 0

    /// Starts a writer thread for `fileDescriptor`, which stays owned by the caller.
    public init(fileDescriptor: Int32, capacityBytes: Int = 8 << 20) {
        self.fileDescriptor = fileDescriptor
        self.capacityBytes = capacityBytes
        let thread = Thread { self.run() }
        thread.name = "tokenhub-log-writer"
        thread.start()
    }

    /// Queues `text` (one or more whole lines); drops it when the queue is full.
    public func write(_ text: String) {
        condition.lock()
        defer { condition.unlock() }
        guard queuedBytes + text.utf8.count <= capacityBytes else {
            dropped += 1
            return
        }
        queued.append(text)
        queuedBytes += text.utf8.count
        // Broadcast: `flush` callers wait on the same condition as the writer thread.
        condition.broadcast()
    }

    /// Waits until every line queued before the call has been written, at most `timeout` (a
    /// reader that never reads must not keep the process from exiting). Returns whether it did.
    @discardableResult
    public func flush(timeout: Duration = .seconds(2)) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        while !queued.isEmpty || writing {
            guard condition.wait(until: deadline) else { return false }
        }
        return true
    }

    /// Lines dropped since start because the queue was full.
    public var droppedLines: Int {
        condition.lock()
        defer { condition.unlock() }
        return dropped
    }

    /// A `TextOutputStream` for swift-log's `StreamLogHandler`.
    public var stream: Stream { Stream(writer: self) }

    /// Queues what it is given on the writer.
    public struct Stream: TextOutputStream, Sendable {
        let writer: BackgroundLogWriter
        /// Queues `string`.
        public mutating func write(_ string: String) { writer.write(string) }
    }

    private func run() {
        var reportedDrops = 0
        while true {
            condition.lock()
            while queued.isEmpty { condition.wait() }
            var batch = queued
            queued.removeAll(keepingCapacity: true)
            queuedBytes = 0
            writing = true
            let lost = dropped - reportedDrops
            reportedDrops = dropped
            condition.unlock()

            if lost > 0 { batch.insert("tokenhub: \(lost) log line(s) dropped: the log reader fell behind\n", at: 0) }
            writeAll(batch.joined())

            condition.lock()
            writing = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func writeAll(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // closed or failing descriptor: nothing useful left to do with the text
                }
            }
        }
    }
}

extension LoggingSystem {
    /// Sends every logger's lines (StreamLogHandler's format) through `writer`, at the level
    /// `LogLevelControl` holds (`server.log_level`, reloadable).
    public static func bootstrapBackground(_ writer: BackgroundLogWriter = .standardError) {
        bootstrap { label in ControlledLevelLogHandler(base: StreamLogHandler(label: label, stream: writer.stream, metadataProvider: nil)) }
    }
}
