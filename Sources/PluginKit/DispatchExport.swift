import Foundation
import PluginAPI
import Synchronization

/// Builds the C descriptor and vtable of a Swift plugin. A plugin's entry function is one line:
///
/// ```swift
/// @_cdecl("tokenhub_plugin_entry")
/// public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
///     PluginExport.descriptor(name: "direct", version: "1.0.0", dispatcher: DirectDispatcher.self)
/// }
/// ```
///
/// Each plugin library links its own copy of PluginKit, so the registration below is per
/// library; a library exports at most one Swift dispatcher type.
public enum PluginExport {
    private struct Registration: @unchecked Sendable {
        var dispatcherType: (any SwiftDispatcher.Type)?
        var descriptor: UnsafeMutablePointer<tokenhub_plugin_descriptor>?
    }

    private static let registration = Mutex(Registration())

    /// Returns the library's descriptor, building it on the first call.
    /// OWNERSHIP: the descriptor and its strings live for the life of the process.
    public static func descriptor(
        name: String, version: String, dispatcher: (any SwiftDispatcher.Type)?
    ) -> UnsafePointer<tokenhub_plugin_descriptor> {
        registration.withLock { state in
            if let existing = state.descriptor { return UnsafePointer(existing) }
            state.dispatcherType = dispatcher
            let descriptor = UnsafeMutablePointer<tokenhub_plugin_descriptor>.allocate(capacity: 1)
            descriptor.initialize(to: tokenhub_plugin_descriptor(
                struct_size: MemoryLayout<tokenhub_plugin_descriptor>.size,
                abi_major: UInt32(TOKENHUB_ABI_MAJOR),
                abi_minor: UInt32(TOKENHUB_ABI_MINOR),
                name: UnsafePointer(strdup(name)),
                version: UnsafePointer(strdup(version)),
                dispatch: dispatcher == nil ? nil : UnsafePointer(dispatchVTable)
            ))
            state.descriptor = descriptor
            return UnsafePointer(descriptor)
        }
    }

    static var dispatcherType: (any SwiftDispatcher.Type)? {
        registration.withLock { $0.dispatcherType }
    }

    nonisolated(unsafe) static let dispatchVTable: UnsafeMutablePointer<tokenhub_dispatch_vtable> = {
        let table = UnsafeMutablePointer<tokenhub_dispatch_vtable>.allocate(capacity: 1)
        table.initialize(to: tokenhub_dispatch_vtable(
            struct_size: MemoryLayout<tokenhub_dispatch_vtable>.size,
            create: swiftDispatcherCreate,
            start: swiftDispatcherStart,
            on_chat: swiftDispatcherOnChat,
            on_plan: swiftDispatcherOnPlan,
            stop: swiftDispatcherStop,
            destroy: swiftDispatcherDestroy
        ))
        return table
    }()
}

/// The object behind a `tokenhub_instance *` of a Swift plugin.
final class SwiftDispatcherInstance: Sendable {
    let dispatcher: any SwiftDispatcher
    init(_ dispatcher: any SwiftDispatcher) { self.dispatcher = dispatcher }

    static func from(_ instance: OpaquePointer?) -> SwiftDispatcherInstance {
        Unmanaged<SwiftDispatcherInstance>.fromOpaque(UnsafeRawPointer(instance!)).takeUnretainedValue()
    }
}


private let swiftDispatcherCreate: @convention(c) (
    UnsafePointer<tokenhub_host>?, tokenhub_slice, UnsafeMutablePointer<OpaquePointer?>?, tokenhub_error_buffer
) -> tokenhub_status = { host, config, outInstance, errorBuffer in
    guard let host, let outInstance else {
        errorBuffer.write("create: host table and out_instance must not be NULL")
        return PluginStatus.invalidArgument.code
    }
    guard let type = PluginExport.dispatcherType else {
        errorBuffer.write("create: this library registered no dispatcher")
        return PluginStatus.notSupported.code
    }
    do {
        let dispatcher = try type.init(host: HostTable(host), configJSON: config.bytes)
        outInstance.pointee = OpaquePointer(Unmanaged.passRetained(SwiftDispatcherInstance(dispatcher)).toOpaque())
        return PluginStatus.ok.code
    } catch {
        errorBuffer.write("\(error)")
        return PluginStatus.invalidArgument.code
    }
}

private let swiftDispatcherStart: @convention(c) (OpaquePointer?, tokenhub_error_buffer) -> tokenhub_status = { instance, errorBuffer in
    do {
        try SwiftDispatcherInstance.from(instance).dispatcher.start()
        return PluginStatus.ok.code
    } catch {
        errorBuffer.write("\(error)")
        return PluginStatus.internal.code
    }
}

private let swiftDispatcherOnChat: @convention(c) (
    OpaquePointer?, tokenhub_slice, tokenhub_completion_fn?, UnsafeMutableRawPointer?
) -> Void = { instance, input, done, userData in
    serve(instance, input, done, userData) { dispatcher, bytes in await dispatcher.chat(bytes) }
}

private let swiftDispatcherOnPlan: @convention(c) (
    OpaquePointer?, tokenhub_slice, tokenhub_completion_fn?, UnsafeMutableRawPointer?
) -> Void = { instance, input, done, userData in
    serve(instance, input, done, userData) { dispatcher, bytes in await dispatcher.plan(bytes) }
}

/// Copies the borrowed input, returns at once, and completes `done` from a task.
private func serve(
    _ instance: OpaquePointer?, _ input: tokenhub_slice, _ done: tokenhub_completion_fn?,
    _ userData: UnsafeMutableRawPointer?,
    _ work: @escaping @Sendable (any SwiftDispatcher, [UInt8]) async -> PluginReply
) {
    guard let done else { return }
    let dispatcher = SwiftDispatcherInstance.from(instance).dispatcher
    let bytes = input.bytes
    let userData = CUserData(userData)
    Task { await work(dispatcher, bytes).deliver(to: done, userData: userData.pointer) }
}

private let swiftDispatcherStop: @convention(c) (
    OpaquePointer?, tokenhub_completion_fn?, UnsafeMutableRawPointer?
) -> Void = { instance, done, userData in
    let dispatcher = SwiftDispatcherInstance.from(instance).dispatcher
    let userData = CUserData(userData)
    Task {
        await dispatcher.stop()
        if let done { PluginReply(status: .ok).deliver(to: done, userData: userData.pointer) }
    }
}

private let swiftDispatcherDestroy: @convention(c) (OpaquePointer?) -> Void = { instance in
    guard let instance else { return }
    Unmanaged<SwiftDispatcherInstance>.fromOpaque(UnsafeRawPointer(instance)).release()
}
