import Foundation

/// A failure of a helper process, with what it printed.
public struct SubprocessError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Runs helper commands (the C compiler, `tokenhub check-config`) to completion.
public enum Subprocess {
    /// What a finished process left behind.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `executable` with `arguments` and waits for it off the cooperative pool.
    public static func running(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                               currentDirectory: URL? = nil) async throws -> Result {
        try await offThread { try run(executable, arguments, environment: environment, currentDirectory: currentDirectory) }
    }

    /// Runs `executable` with `arguments` and blocks until it exits.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Read both pipes before waiting so a chatty process cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            errorData = stderr.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outputData, as: UTF8.self),
                      stderr: String(decoding: errorData, as: UTF8.self))
    }
}

/// A helper process that runs beside a test (a scripted server, a raw-socket client), its
/// stdout read as it prints.
public final class BackgroundProcess: @unchecked Sendable {
    /// The process.
    public let process: Process
    private let output = Pipe()

    /// Starts `executable` with `arguments`; stderr is discarded.
    public init(_ executable: String, _ arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Starts `python3 -c script` with `arguments`.
    public convenience init(python script: String, arguments: [String] = []) throws {
        try self.init("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    /// What the process printed next, trimmed; waits until it prints (or exits: "").
    public func readOutput() -> String {
        String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits up to `grace` for the process to exit by itself, then terminates it, and kills it
    /// if it is still there 2 s later: a child started from a test thread inherits that
    /// thread's signal mask, in which SIGTERM may be blocked, and a helper left running would
    /// outlive the test run. (Polls: `waitUntilExit` spins here, off the main thread, once
    /// the child is gone.)
    public func stop(grace: Duration = .zero) {
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
    }

    deinit { stop() }
}
