import Foundation

/// Compiles the C plugins under `Tests/Fixtures/CPlugins` with the system C compiler against
/// the ABI header alone, as a third-party author would.
public enum CPluginBuilder {
    /// Where built fixtures go: a fresh directory per test process (a process ID alone gets
    /// reused, and a stale library built against an older header would be picked up).
    public static let outputDirectory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenhub-cplugins-\(getpid())-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    private static let lock = NSLock()

    /// Builds `Tests/Fixtures/CPlugins/<name>.c` into `lib<name>.so` (once per process) and
    /// returns its path. With `header` ("1.0", "1.1", "1.2"), it is compiled against that
    /// release's copy of the header in `Tests/Fixtures/Headers`, as a plugin shipped then was.
    public static func build(_ name: String, header: String? = nil) async throws -> String {
        try await offThread { try buildBlocking(name, header: header) }
    }

    private static func buildBlocking(_ name: String, header: String?) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let output = outputDirectory.appendingPathComponent("lib\(name)\(header.map { "-" + $0 } ?? "").so").path
        if FileManager.default.fileExists(atPath: output) { return output }
        let source = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/CPlugins/\(name).c").path
        let include = TestPaths.packageRoot.appendingPathComponent(header.map { "Tests/Fixtures/Headers/\($0)" } ?? "Sources/PluginAPI/include").path
        let result = try Subprocess.run(
            "/usr/bin/env", ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-shared", "-fPIC"]
                + (header == nil ? ["-Wmissing-prototypes"] : []) + [
                             "-I", include, source, "-o", output])
        guard result.status == 0 else {
            throw SubprocessError(message: "cc failed for \(name).c: \(result.stderr)")
        }
        return output
    }
}
