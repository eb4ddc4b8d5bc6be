import Foundation
import PluginAPI
import Synchronization

/// Builds the C descriptor and vtables of a Swift plugin. A plugin's entry function is one line:
///
/// ```swift
/// @_cdecl("tokenhub_plugin_entry")
/// public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
///     PluginExport.descriptor(name: "direct", version: "1.0.0", dispatcher: DirectDispatcher.self)
/// }
/// ```
///
/// Each plugin library links its own copy of PluginKit, so the registration below is per
/// library; a library exports at most one Swift type per kind.
public enum PluginExport {
    struct Registration: @unchecked Sendable {
        var dispatcher: (any SwiftDispatcher.Type)?
        var store: (any SwiftStore.Type)?
        var telemetry: (any SwiftTelemetry.Type)?
        var descriptor: UnsafeMutablePointer<tokenhub_plugin_descriptor>?
    }

    private static let registration = Mutex(Registration())

    /// Returns the library's descriptor, building it on the first call.
    /// OWNERSHIP: the descriptor and its strings live for the life of the process.
    public static func descriptor(
        name: String, version: String,
        dispatcher: (any SwiftDispatcher.Type)? = nil, store: (any SwiftStore.Type)? = nil,
        telemetry: (any SwiftTelemetry.Type)? = nil
    ) -> UnsafePointer<tokenhub_plugin_descriptor> {
        registration.withLock { state in
            if let existing = state.descriptor { return UnsafePointer(existing) }
            state.dispatcher = dispatcher
            state.store = store
            state.telemetry = telemetry
            let descriptor = UnsafeMutablePointer<tokenhub_plugin_descriptor>.allocate(capacity: 1)
            descriptor.initialize(to: tokenhub_plugin_descriptor(
                struct_size: MemoryLayout<tokenhub_plugin_descriptor>.size,
                abi_major: UInt32(TOKENHUB_ABI_MAJOR),
                abi_minor: UInt32(TOKENHUB_ABI_MINOR),
                name: UnsafePointer(strdup(name)),
                version: UnsafePointer(strdup(version)),
                dispatch: dispatcher == nil ? nil : UnsafePointer(dispatchVTable),
                store: store == nil ? nil : UnsafePointer(storeVTable),
                telemetry: telemetry == nil ? nil : UnsafePointer(telemetryVTable)
            ))
            state.descriptor = descriptor
            return UnsafePointer(descriptor)
        }
    }

    static var registered: Registration { registration.withLock { $0 } }
}
