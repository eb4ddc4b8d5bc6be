import Foundation

/// A `tokenhub serve` process started by a test, listening on a free loopback port.
public final class RunningTokenhub: @unchecked Sendable {
    /// The process.
    public let process: Process
    /// The port it reported listening on.
    public let port: Int
    /// Everything it wrote to stderr so far (its log).
    public var log: String { logBuffer.text }

    private let logBuffer = LogBuffer()

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts `tokenhub serve [--config <configPath>]` and waits, off the cooperative pool,
    /// until it listens.
    public static func start(configPath: String?, environment extra: [String: String] = [:], currentDirectory: URL? = nil,
                             timeout: TimeInterval = 60) async throws -> RunningTokenhub {
        try await offThread {
            try RunningTokenhub(configPath: configPath, environment: extra, currentDirectory: currentDirectory, timeout: timeout)
        }
    }

    /// Starts `tokenhub serve [--config <configPath>]` and blocks until it listens. Async tests
    /// use `start`, which does not hold a cooperative thread while waiting.
    public init(configPath: String?, environment extra: [String: String] = [:], currentDirectory: URL? = nil,
                timeout: TimeInterval = 60) throws {
        let process = Process()
        process.executableURL = TestPaths.tokenhub
        process.arguments = ["serve"] + (configPath.map { ["--config", $0] } ?? [])
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENHUB_LISTEN_ADDR"] = "127.0.0.1:0"
        // The default config's SQLite store: a fresh data directory per process, so tests
        // never share (or leave behind) a database.
        if environment["TOKENHUB_DATA_DIR"] == nil {
            environment["TOKENHUB_DATA_DIR"] = FileManager.default.temporaryDirectory.appendingPathComponent("tokenhub-data-\(UUID().uuidString)").path
        }
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        try process.run()

        let portFound = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var foundPort = 0
        let handle = stderr.fileHandleForReading
        let logBuffer = self.logBuffer
        let thread = Thread {
            var pending = ""
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                let text = String(decoding: chunk, as: UTF8.self)
                logBuffer.append(text)
                pending += text
                if foundPort == 0, let range = pending.range(of: #"listening on [^\s]+:(\d+)"#, options: .regularExpression) {
                    let match = String(pending[range])
                    foundPort = Int(match.split(separator: ":").last ?? "") ?? 0
                    portFound.signal()
                }
            }
            portFound.signal()
        }
        thread.start()
        let waited = portFound.wait(timeout: .now() + timeout)
        guard waited == .success, foundPort > 0 else {
            process.terminate()
            throw SubprocessError(message: "tokenhub did not start listening: \(logBuffer.text)")
        }
        self.port = foundPort
    }

    /// Sends SIGTERM and waits, off the cooperative pool, for a graceful exit; returns the
    /// exit status.
    @discardableResult
    public func stopped() async -> Int32 {
        (try? await offThread { self.stop() }) ?? -1
    }

    /// Sends SIGTERM and blocks until a graceful exit; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// Text appended by a reader thread and read by the test.
final class LogBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var storage = ""
    var text: String { lock.withLock { storage } }
    func append(_ text: String) { lock.withLock { storage += text } }
}
