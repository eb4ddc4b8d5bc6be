import PluginAPI

/// A store written in Swift. PluginKit turns it into the C `tokenhub_store_vtable`.
///
/// THREAD: `call` runs concurrently from any task; `start` and `stop` once each. Blocking
/// database work belongs on the store's own threads, never on the caller's.
public protocol SwiftStore: AnyObject, Sendable {
    /// Validates `configJSON` (the plugin's `config` object); no I/O beyond checking paths.
    init(host: HostTable, configJSON: [UInt8]) throws
    /// Opens the backend and migrates it; a failure's message names the path or server.
    func start() async -> PluginReply
    /// Runs one named operation with its input JSON.
    func call(operation: String, requestJSON: [UInt8]) async -> PluginReply
    /// Flushes queued writes and stops.
    func stop() async
}

extension PluginExport {
    nonisolated(unsafe) static let storeVTable: UnsafeMutablePointer<tokenhub_store_vtable> = {
        let table = UnsafeMutablePointer<tokenhub_store_vtable>.allocate(capacity: 1)
        table.initialize(to: tokenhub_store_vtable(
            struct_size: MemoryLayout<tokenhub_store_vtable>.size,
            create: swiftStoreCreate,
            start: swiftStoreStart,
            on_call: swiftStoreOnCall,
            stop: swiftStoreStop,
            destroy: swiftStoreDestroy
        ))
        return table
    }()
}

/// The object behind a `tokenhub_instance *` of a Swift store.
final class SwiftStoreInstance: Sendable {
    let store: any SwiftStore
    init(_ store: any SwiftStore) { self.store = store }

    static func from(_ instance: OpaquePointer?) -> any SwiftStore {
        Unmanaged<SwiftStoreInstance>.fromOpaque(UnsafeRawPointer(instance!)).takeUnretainedValue().store
    }
}

private let swiftStoreCreate: @convention(c) (
    UnsafePointer<tokenhub_host>?, tokenhub_slice, UnsafeMutablePointer<OpaquePointer?>?, tokenhub_error_buffer
) -> tokenhub_status = { host, config, outInstance, errorBuffer in
    guard let host, let outInstance else {
        errorBuffer.write("create: host table and out_instance must not be NULL")
        return PluginStatus.invalidArgument.code
    }
    guard let type = PluginExport.registered.store else {
        errorBuffer.write("create: this library registered no store")
        return PluginStatus.notSupported.code
    }
    do {
        let store = try type.init(host: HostTable(host), configJSON: config.bytes)
        outInstance.pointee = OpaquePointer(Unmanaged.passRetained(SwiftStoreInstance(store)).toOpaque())
        return PluginStatus.ok.code
    } catch {
        errorBuffer.write("\(error)")
        return PluginStatus.invalidArgument.code
    }
}

private let swiftStoreStart: @convention(c) (OpaquePointer?, tokenhub_completion_fn?, UnsafeMutableRawPointer?) -> Void = {
    instance, done, userData in
    let store = SwiftStoreInstance.from(instance)
    completeLater(done, userData) { await store.start() }
}

private let swiftStoreOnCall: @convention(c) (
    OpaquePointer?, tokenhub_slice, tokenhub_slice, tokenhub_completion_fn?, UnsafeMutableRawPointer?
) -> Void = { instance, operation, request, done, userData in
    let store = SwiftStoreInstance.from(instance)
    let name = operation.string
    let bytes = request.bytes
    completeLater(done, userData) { await store.call(operation: name, requestJSON: bytes) }
}

private let swiftStoreStop: @convention(c) (OpaquePointer?, tokenhub_completion_fn?, UnsafeMutableRawPointer?) -> Void = {
    instance, done, userData in
    let store = SwiftStoreInstance.from(instance)
    completeLater(done, userData) {
        await store.stop()
        return PluginReply(status: .ok)
    }
}

private let swiftStoreDestroy: @convention(c) (OpaquePointer?) -> Void = { instance in
    guard let instance else { return }
    Unmanaged<SwiftStoreInstance>.fromOpaque(UnsafeRawPointer(instance)).release()
}
