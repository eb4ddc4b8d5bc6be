import Foundation

/// Builds the example plugins under `examples/` the way their READMEs say: the C one with
/// its Makefile (optionally with sanitizers), the Rust one with cargo (offline: std only).
public enum ExampleBuilder {
    /// How an example is built.
    public enum Variant: String, Sendable, CaseIterable, CustomStringConvertible {
        /// `make` in examples/canary-c.
        case c
        /// `make SANITIZE=1`: AddressSanitizer and UBSan, loaded into a host started with
        /// `environment` (libasan preloaded).
        case cSanitized = "c-sanitized"
        /// `cargo build --release --offline` in examples/canary-rust.
        case rust

        public var description: String { rawValue }

        /// What the host process needs to load this build.
        public var environment: [String: String] {
            guard self == .cSanitized else { return [:] }
            let runtime = (try? Subprocess.run("/usr/bin/env", ["cc", "-print-file-name=libasan.so"]))?.stdout
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "libasan.so"
            // Leaks are not checked: the Swift runtime's own process-lifetime allocations would
            // drown the plugin's. Errors abort the process, which the test sees.
            return ["LD_PRELOAD": runtime, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
                    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"]
        }
    }

    /// Builds the canary example as `variant` into a fresh directory; returns the library's path.
    public static func buildCanary(_ variant: Variant) async throws -> String {
        try await offThread { try buildBlocking(variant) }
    }

    private static func buildBlocking(_ variant: Variant) throws -> String {
        let directory = try TestPaths.makeTemporaryDirectory("example-\(variant)")
        let examples = TestPaths.packageRoot.appendingPathComponent("examples")
        let result: Subprocess.Result
        let library: String
        switch variant {
        case .c, .cSanitized:
            library = directory.appendingPathComponent("libcanary.so").path
            result = try Subprocess.run("/usr/bin/env", ["make", "-C", examples.appendingPathComponent("canary-c").path, "OUT=\(library)"]
                                        + (variant == .cSanitized ? ["SANITIZE=1"] : []))
        case .rust:
            library = directory.appendingPathComponent("release/libcanary.so").path
            result = try Subprocess.run("/usr/bin/env", ["cargo", "build", "--release", "--offline", "--quiet",
                                                         "--manifest-path", examples.appendingPathComponent("canary-rust/Cargo.toml").path,
                                                         "--target-dir", directory.path])
        }
        guard result.status == 0, FileManager.default.fileExists(atPath: library) else {
            throw SubprocessError(message: "building the \(variant) canary failed (\(result.status)): \(result.stdout) \(result.stderr)")
        }
        return library
    }
}
