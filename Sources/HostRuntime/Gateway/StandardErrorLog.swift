import Glibc
import Logging
import PluginKit

extension BackgroundLineWriter {
    /// The process's standard error, flushed at exit: the host's log.
    public static let standardError: BackgroundLineWriter = {
        let writer = BackgroundLineWriter(fileDescriptor: STDERR_FILENO, threadName: "tokenhub-log-writer") { lost in
            "tokenhub: \(lost) log line(s) dropped: the log reader fell behind\n"
        }
        atexit { BackgroundLineWriter.standardError.flush() }
        return writer
    }()

    /// A `TextOutputStream` for swift-log's `StreamLogHandler`.
    public var stream: Stream { Stream(writer: self) }

    /// Queues what it is given on the writer.
    public struct Stream: TextOutputStream, Sendable {
        let writer: BackgroundLineWriter
        /// Queues `string`.
        public mutating func write(_ string: String) { writer.write(string) }
    }
}

extension LoggingSystem {
    /// Sends every logger's lines (StreamLogHandler's format) through `writer`, at the level
    /// `LogLevelControl` holds (`server.log_level`, reloadable).
    public static func bootstrapBackground(_ writer: BackgroundLineWriter = .standardError) {
        bootstrap { label in ControlledLevelLogHandler(base: StreamLogHandler(label: label, stream: writer.stream, metadataProvider: nil)) }
    }
}
