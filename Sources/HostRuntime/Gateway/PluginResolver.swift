import Foundation

/// Turns a plugin name from config into a file path.
public enum PluginResolver {
    /// The platform's shared-library file name for a base name (`libDirectDispatch.so`).
    public static func fileName(for baseName: String) -> String {
        #if os(macOS)
        "lib\(baseName).dylib"
        #else
        "lib\(baseName).so"
        #endif
    }

    /// The directory of the running executable, where `swift build` puts plugin libraries.
    public static var executableDirectory: String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    /// A path (anything with `/` or a library suffix) is used as given; a base name is looked
    /// up in `directory` (default: the executable's directory).
    public static func path(for library: String, directory: String?) -> String {
        if library.contains("/") || library.hasSuffix(".so") || library.hasSuffix(".dylib") {
            return library
        }
        let directory = directory ?? executableDirectory
        return URL(fileURLWithPath: directory).appendingPathComponent(fileName(for: library)).path
    }
}
