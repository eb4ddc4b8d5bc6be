/// Why a plugin could not be loaded, created or started. Always names the file.
public struct PluginLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of failure, each with a fixed wording operators can search for.
    public enum Code: String, Sendable, Hashable {
        case notFound = "not found"
        case notLoadable = "not a loadable shared library"
        case missingEntrySymbol = "missing entry symbol"
        case invalidDescriptor = "invalid descriptor"
        case abiMajorMismatch = "ABI major version mismatch"
        case kindNotOffered = "kind not offered"
        case createFailed = "create failed"
        case startFailed = "start failed"
    }

    /// What went wrong.
    public var code: Code
    /// The plugin file (or the name that could not be resolved to one).
    public var path: String
    /// The specifics: dlerror text, the versions that disagree, the plugin's own message.
    public var detail: String
    /// Where the plugin is configured (`dispatch.chain[1]`), when known.
    public var keyPath: String?

    /// Creates an error.
    public init(_ code: Code, path: String, detail: String) {
        self.code = code
        self.path = path
        self.detail = detail
    }

    /// `plugin /path/libX.so: ABI major version mismatch: plugin has 2, host has 1`, prefixed
    /// with the configuration key (`dispatch.chain[1]: `) when known.
    public var description: String { (keyPath.map { "\($0): " } ?? "") + "plugin \(path): \(code.rawValue): \(detail)" }

    /// The error, naming where the plugin is configured.
    func at(_ keyPath: String) -> PluginLoadError {
        var error = self
        error.keyPath = keyPath
        return error
    }
}
