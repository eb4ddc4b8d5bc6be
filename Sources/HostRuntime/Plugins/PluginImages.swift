import Crypto
import Foundation
import Synchronization

/// The plugin files this process has loaded, by content, so that a file rebuilt at the same
/// path really runs its new code. `dlopen` of a path already loaded returns the image loaded
/// first (glibc matches the name before looking at the file), and images are never unloaded
/// (`RTLD_NODELETE`: Swift code cannot be unloaded safely). So the first content seen at a
/// path is opened there; a different content later is opened from a copy named by its hash,
/// beside the original (so that `$ORIGIN` still finds the plugin's neighbours) or, when that
/// directory is not writable, in the temporary directory. Memory grows by one image per
/// distinct build loaded.
///
/// THREAD: safe from any thread.
enum PluginImages {
    private struct Loaded {
        /// The content hash opened at each original path.
        var hashAtPath: [String: String] = [:]
        /// The stamp a path's hash was computed for, so that an unchanged file is not re-read.
        var hashCache: [String: (stamp: FileStamp, hash: String)] = [:]
    }
    private static let loaded = Mutex(Loaded())

    /// The file to `dlopen` for `path` and the content's SHA-256 (lowercase hex); throws when
    /// the file cannot be read or copied.
    static func image(for path: String) throws(PluginLoadError) -> (openPath: String, sha256: String) {
        let hash = try contentHash(path)
        let first = loaded.withLock { loaded -> Bool in
            guard let existing = loaded.hashAtPath[path] else {
                loaded.hashAtPath[path] = hash
                return true
            }
            return existing == hash
        }
        if first { return (path, hash) }
        return (try copy(path, hash: hash), hash)
    }

    private static func contentHash(_ path: String) throws(PluginLoadError) -> String {
        let stamp = FileStamp(path: path)
        if let stamp, let cached = loaded.withLock({ $0.hashCache[path] }), cached.stamp == stamp { return cached.hash }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PluginLoadError(.notLoadable, path: path, detail: "the file cannot be read")
        }
        let hash = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        if let stamp { loaded.withLock { $0.hashCache[path] = (stamp, hash) } }
        return hash
    }

    /// A copy of `path` named by `hash`: `.<name>.<hash prefix>.so` beside it, else in the
    /// temporary directory. An existing copy (same name, so same content) is reused.
    private static func copy(_ path: String, hash: String) throws(PluginLoadError) -> String {
        let original = URL(fileURLWithPath: path)
        let name = original.deletingPathExtension().lastPathComponent
        let fileName = ".\(name).\(hash.prefix(16)).so"
        let candidates = [
            original.deletingLastPathComponent().appendingPathComponent(fileName),
            FileManager.default.temporaryDirectory.appendingPathComponent("tokenhub-plugin-images").appendingPathComponent(fileName),
        ]
        var lastError = ""
        for target in candidates {
            if FileManager.default.fileExists(atPath: target.path) { return target.path }
            do {
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                let temporary = target.deletingLastPathComponent().appendingPathComponent("\(fileName).\(UUID().uuidString)")
                try FileManager.default.copyItem(at: original, to: temporary)
                try FileManager.default.moveItem(at: temporary, to: target)
                return target.path
            } catch {
                lastError = "\(error)"
            }
        }
        throw PluginLoadError(.notLoadable, path: path, detail: "a rebuilt plugin is loaded from a copy, which could not be written: \(lastError)")
    }
}
