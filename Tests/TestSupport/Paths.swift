import Foundation

/// Where the tests find the package, the build products and their scratch space.
public enum TestPaths {
    /// The package root (the directory holding Package.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The build products directory (`.build/debug`), where the test runner itself lives
    /// beside `tokenhub` and the plugin libraries.
    public static let buildProducts: URL = {
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: runner).deletingLastPathComponent()
        // On some platforms the runner sits inside a bundle (`X.xctest/Contents/MacOS`).
        while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
        return directory
    }()

    /// The `tokenhub` executable.
    public static var tokenhub: URL { buildProducts.appendingPathComponent("tokenhub") }

    /// The `tokenhubctl` executable.
    public static var tokenhubctl: URL { buildProducts.appendingPathComponent("tokenhubctl") }

    /// A fresh temporary directory.
    public static func makeTemporaryDirectory(_ prefix: String = "tokenhub-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
