import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster (Debian's `postgresql` package: `initdb` and `pg_ctl` from
/// `/usr/lib/postgresql/*/bin`) in a temporary directory on a free loopback port, trusting
/// local connections. As root the server runs as the `postgres` user (PostgreSQL refuses
/// root). `shared` is one server per test process, stopped when the process exits; tests
/// that stop and start the server make their own.
public final class PostgresServer: @unchecked Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    private let dataDirectory: String
    private let binaries: String
    private var server: Process?

    /// One server for the whole test process, started on first use.
    public static func shared() async throws -> PostgresServer {
        try await offThread { try sharedServer.get() }
    }

    private static let sharedServer: Result<PostgresServer, any Error> = {
        let result = Result { try PostgresServer() }
        if case .success(let server) = result {
            atexit { if case .success(let server) = PostgresServer.sharedServer { server.stop(mode: "immediate") } }
            _ = server
        }
        return result
    }()

    /// Creates a cluster and starts it; throws naming what is missing when PostgreSQL is not
    /// installed.
    public init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.compactMap(Int.init).max() else {
            throw SubprocessError(message: "PostgreSQL is not installed: no /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)")
        }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        let directory = try TestPaths.makeTemporaryDirectory("postgres")
        dataDirectory = directory.appendingPathComponent("data").path
        port = try TemporalDevServer.freePort()
        if getuid() == 0 {
            _ = try Subprocess.run("/bin/chown", ["-R", "postgres:postgres", directory.path])
        }
        let initdb = try run("initdb", ["-D", dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        guard initdb.status == 0 else { throw SubprocessError(message: "initdb failed: \(initdb.stderr)") }
        try start()
    }

    /// Starts the server (again) on the same port and data.
    public func start() throws {
        let options = "-k '' -h 127.0.0.1 -p \(port) -c fsync=off -c max_connections=200"
        // The server runs in the foreground as this process's child (not daemonized by
        // pg_ctl, whose server would keep a pipe open), and is ready when pg_isready says so.
        let process = Process()
        let arguments = ["-D", dataDirectory, "-k", "", "-h", "127.0.0.1", "-p", "\(port)", "-c", "fsync=off", "-c", "max_connections=200"]
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", "\(binaries)/postgres"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "\(binaries)/postgres")
            process.arguments = arguments
        }
        let logPath = dataDirectory + "/../server.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        server = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let ready = try? Subprocess.run("\(binaries)/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-t", "1"]), ready.status == 0 { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw SubprocessError(message: "PostgreSQL did not start on port \(port): \(text.suffix(2000))")
    }

    /// Stops the server (`fast`: disconnects clients, `immediate`: no shutdown checkpoint).
    public func stop(mode: String = "fast") {
        _ = try? run("pg_ctl", ["-D", dataDirectory, "-m", mode, "-w", "stop"])
        server?.waitUntilExit()
    }

    /// Creates a fresh database and returns its URL for the store's config.
    public func createDatabase(_ prefix: String = "tokenhub") async throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        let result = try await psql("postgres", "CREATE DATABASE \(name)")
        guard result.status == 0 else { throw SubprocessError(message: "CREATE DATABASE failed: \(result.stderr)") }
        return url(database: name)
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    public func url(database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }

    /// Runs `sql` with psql against `database` (unaligned, tuples only).
    public func psql(_ database: String, _ sql: String) async throws -> Subprocess.Result {
        let port = self.port
        return try await offThread {
            try Subprocess.run("/usr/bin/env", ["psql", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database,
                                               "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        }
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> Subprocess.Result {
        let path = "\(binaries)/\(tool)"
        if getuid() == 0 {
            return try Subprocess.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments)
        }
        return try Subprocess.run(path, arguments)
    }
}
