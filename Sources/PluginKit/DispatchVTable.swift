import Foundation
import PluginAPI
import Synchronization

extension PluginExport {
    nonisolated(unsafe) static let dispatchVTable: UnsafeMutablePointer<tokenhub_dispatch_vtable> = {
        let table = UnsafeMutablePointer<tokenhub_dispatch_vtable>.allocate(capacity: 1)
        table.initialize(to: tokenhub_dispatch_vtable(
            struct_size: MemoryLayout<tokenhub_dispatch_vtable>.size,
            create: swiftDispatcherCreate,
            start: swiftDispatcherStart,
            on_chat: swiftDispatcherOnChat,
            on_plan: swiftDispatcherOnPlan,
            stop: swiftDispatcherStop,
            destroy: swiftDispatcherDestroy,
            on_cancel: swiftDispatcherOnCancel
        ))
        return table
    }()
}

/// The object behind a `tokenhub_instance *` of a Swift plugin: the dispatcher, and the
/// tasks of its running calls by the host's `user_data`, which `on_cancel` cancels (a
/// cancelled task cancels its own host calls in turn: see `HostTable`).
final class SwiftDispatcherInstance: Sendable {
    let dispatcher: any SwiftDispatcher
    let running = RunningCalls()
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
    guard let type = PluginExport.registered.dispatcher else {
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

/// Copies the borrowed input, returns at once, completes `done` from a task.
private func serve(
    _ instance: OpaquePointer?, _ input: tokenhub_slice, _ done: tokenhub_completion_fn?,
    _ userData: UnsafeMutableRawPointer?,
    _ work: @escaping @Sendable (any SwiftDispatcher, [UInt8]) async -> PluginReply
) {
    let box = SwiftDispatcherInstance.from(instance)
    let dispatcher = box.dispatcher
    let bytes = input.bytes
    box.running.serve(done, userData) { await work(dispatcher, bytes) }
}

private let swiftDispatcherStop: @convention(c) (
    OpaquePointer?, tokenhub_completion_fn?, UnsafeMutableRawPointer?
) -> Void = { instance, done, userData in
    let dispatcher = SwiftDispatcherInstance.from(instance).dispatcher
    completeLater(done, userData) {
        await dispatcher.stop()
        return PluginReply(status: .ok)
    }
}

private let swiftDispatcherOnCancel: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { instance, userData in
    SwiftDispatcherInstance.from(instance).running.cancel(userData)
}

private let swiftDispatcherDestroy: @convention(c) (OpaquePointer?) -> Void = { instance in
    guard let instance else { return }
    Unmanaged<SwiftDispatcherInstance>.fromOpaque(UnsafeRawPointer(instance)).release()
}
