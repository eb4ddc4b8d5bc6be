#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PluginAPI

/// The kinds of instance a plugin library can create.
public enum PluginKind: String, Sendable, Hashable, CaseIterable {
    case dispatch
    case store
    case telemetry
}

/// A plugin library that is loaded and whose descriptor passed the host's checks.
///
/// The library is opened with `RTLD_NODELETE` and never closed: unloading an image that
/// contains Swift code (type metadata, conformances, running tasks) is not safe.
public struct PluginLibrary: @unchecked Sendable {
    /// The file it was loaded from.
    public let path: String
    /// The SHA-256 of the file's content (lowercase hex): which build is running.
    public internal(set) var sha256 = ""
    /// The plugin's own name ("direct").
    public let name: String
    /// The plugin's own version.
    public let version: String
    /// The ABI version the plugin was built against.
    public let abiMajor: UInt32, abiMinor: UInt32
    /// The dispatch factory, when the plugin offers one. Each vtable here is the host's own
    /// copy (`hostCopy`): the plugin's bytes up to its `struct_size`, zeros after, so a hook
    /// a later minor appends reads as NULL for an older plugin.
    let dispatchVTable: UnsafePointer<tokenhub_dispatch_vtable>?
    /// The store factory, when the plugin offers one (ABI 1.1 and later).
    let storeVTable: UnsafePointer<tokenhub_store_vtable>?
    /// The telemetry factory, when the plugin offers one (ABI 1.2 and later).
    let telemetryVTable: UnsafePointer<tokenhub_telemetry_vtable>?

    /// The kinds this library offers.
    public var kinds: [PluginKind] {
        (dispatchVTable == nil ? [] : [.dispatch]) + (storeVTable == nil ? [] : [.store])
            + (telemetryVTable == nil ? [] : [.telemetry])
    }

    /// `1.0`.
    public var abiVersion: String { "\(abiMajor).\(abiMinor)" }

    /// Loads the library at `path` and checks its descriptor. Never crashes on a bad file.
    public static func load(path: String) throws(PluginLoadError) -> PluginLibrary {
        guard access(path, F_OK) == 0 else {
            throw PluginLoadError(.notFound, path: path, detail: "no such file")
        }
        let image = try PluginImages.image(for: path)
        _ = dlerror()
        guard let handle = dlopen(image.openPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw PluginLoadError(.notLoadable, path: path, detail: lastDLError())
        }
        guard let symbol = dlsym(handle, TOKENHUB_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginLoadError(
                .missingEntrySymbol, path: path,
                detail: "the library does not export `\(TOKENHUB_PLUGIN_ENTRY_SYMBOL)`")
        }
        let entry = unsafeBitCast(symbol, to: tokenhub_plugin_entry_fn.self)
        guard let descriptor = entry() else {
            throw PluginLoadError(.invalidDescriptor, path: path, detail: "the entry function returned NULL")
        }
        var library = try validate(descriptor, path: path)
        library.sha256 = image.sha256
        return library
    }

    static func validate(
        _ descriptor: UnsafePointer<tokenhub_plugin_descriptor>, path: String
    ) throws(PluginLoadError) -> PluginLibrary {
        // ABI 1.0's descriptor ends before `store`: only what struct_size covers is read.
        let storeOffset = MemoryLayout<tokenhub_plugin_descriptor>.offset(of: \.store)!
        let (copy, declared) = hostCopy(descriptor)
        let d = copy.pointee
        guard declared >= storeOffset else {
            throw PluginLoadError(
                .invalidDescriptor, path: path,
                detail: "descriptor struct_size is \(declared), ABI 1.0 needs at least \(storeOffset)")
        }
        guard d.abi_major == TOKENHUB_ABI_MAJOR else {
            throw PluginLoadError(
                .abiMajorMismatch, path: path,
                detail: "plugin has \(d.abi_major).\(d.abi_minor), host has \(TOKENHUB_ABI_MAJOR).\(TOKENHUB_ABI_MINOR)")
        }
        guard let name = d.name, let version = d.version else {
            throw PluginLoadError(.invalidDescriptor, path: path, detail: "descriptor name and version must not be NULL")
        }
        // `store` (1.1) and `telemetry` (1.2) are zero in the copy unless struct_size covers them.
        let dispatch = try d.dispatch.map { (plugin) throws(PluginLoadError) in
            try hostVTable(plugin, kind: "dispatch", since: "1.0", destroy: \tokenhub_dispatch_vtable.destroy, path: path) { [
                ("create", $0.create == nil), ("start", $0.start == nil), ("on_chat", $0.on_chat == nil),
                ("stop", $0.stop == nil), ("destroy", $0.destroy == nil),
            ] }
        }
        let store = try d.store.map { (plugin) throws(PluginLoadError) in
            try hostVTable(plugin, kind: "store", since: "1.1", destroy: \tokenhub_store_vtable.destroy, path: path) { [
                ("create", $0.create == nil), ("start", $0.start == nil), ("on_call", $0.on_call == nil),
                ("stop", $0.stop == nil), ("destroy", $0.destroy == nil),
            ] }
        }
        let telemetry = try d.telemetry.map { (plugin) throws(PluginLoadError) in
            try hostVTable(plugin, kind: "telemetry", since: "1.2", destroy: \tokenhub_telemetry_vtable.destroy, path: path) { [
                ("create", $0.create == nil), ("on_result", $0.on_result == nil), ("on_metric", $0.on_metric == nil),
                ("on_event", $0.on_event == nil), ("on_scrape", $0.on_scrape == nil), ("stop", $0.stop == nil),
                ("destroy", $0.destroy == nil),
            ] }
        }
        return PluginLibrary(
            path: path, name: String(cString: name), version: String(cString: version),
            abiMajor: d.abi_major, abiMinor: d.abi_minor, dispatchVTable: dispatch, storeVTable: store,
            telemetryVTable: telemetry)
    }

    /// The host's copy of a versioned struct from a plugin: at most `struct_size` bytes (its
    /// first field; rounded down to whole pointer-sized fields) are read from the plugin, the
    /// rest is zero. Returns the copy and the plugin's `struct_size`. Copies live as long as
    /// the process, as the library does (it is never unloaded).
    static func hostCopy<T>(_ pointer: UnsafePointer<T>) -> (UnsafePointer<T>, Int) {
        let raw = UnsafeRawPointer(pointer)
        let declared = raw.loadUnaligned(as: Int.self)
        let size = MemoryLayout<T>.size
        let field = MemoryLayout<UnsafeRawPointer>.size
        let count = min(max(declared, 0), size) / field * field
        let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<T>.alignment)
        copy.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        copy.copyMemory(from: raw, byteCount: count)
        return (UnsafePointer(copy.bindMemory(to: T.self, capacity: 1)), declared)
    }

    /// The size of a kind's vtable in the minor that introduced it: every field up to its
    /// `destroy`. Hooks a later minor appends come after `destroy` and are optional, so an
    /// older plugin's smaller vtable stays acceptable. (Do not move `destroy`.)
    static func firstVersionSize<T>(_ destroy: PartialKeyPath<T>) -> Int {
        MemoryLayout<T>.offset(of: destroy)! + MemoryLayout<UnsafeRawPointer>.size
    }

    /// The host's copy of a plugin's vtable of `kind`, once it is usable: its `struct_size`
    /// covers every field of the minor that introduced the kind (up to `destroy`), and none of
    /// its required hooks (`(name, isNULL)` from `required`) is NULL.
    private static func hostVTable<VTable>(
        _ plugin: UnsafePointer<VTable>, kind: String, since abi: String, destroy: PartialKeyPath<VTable>, path: String,
        required: (VTable) -> [(String, Bool)]
    ) throws(PluginLoadError) -> UnsafePointer<VTable> {
        let (copy, declared) = hostCopy(plugin)
        let minimumSize = firstVersionSize(destroy)
        guard declared >= minimumSize else {
            throw PluginLoadError(.invalidDescriptor, path: path,
                                  detail: "\(kind) vtable struct_size is \(declared), ABI \(abi) needs at least \(minimumSize)")
        }
        let missing = required(copy.pointee).filter(\.1).map(\.0)
        guard missing.isEmpty else {
            throw PluginLoadError(.invalidDescriptor, path: path, detail: "\(kind) vtable has NULL \(missing.joined(separator: ", "))")
        }
        return copy
    }

    private static func lastDLError() -> String {
        guard let message = dlerror() else { return "dlopen failed" }
        return String(cString: message)
    }
}
