import PluginAPI
import PluginKit

/// The `create` every vtable kind shares: its C signature.
typealias PluginCreateFunction = @convention(c) (
    UnsafePointer<tokenhub_host>?, tokenhub_slice, UnsafeMutablePointer<OpaquePointer?>?, tokenhub_error_buffer
) -> tokenhub_status

extension PluginLibrary {
    /// Looks up the factory of `kind`; a library that does not offer it is an error naming
    /// what it does offer.
    func factory<VTable>(_ vtable: UnsafePointer<VTable>?, kind: String, instanceName: String) throws(PluginLoadError) -> UnsafePointer<VTable> {
        guard let vtable else {
            throw PluginLoadError(
                .kindNotOffered, path: path,
                detail: "`\(instanceName)` is configured as \(kind), but plugin `\(name)` offers \(kinds.isEmpty ? "no kind" : kinds.map(\.rawValue).joined(separator: ", "))")
        }
        return vtable
    }

    /// Calls a vtable's `create` with a fresh host table and the instance's config. On
    /// success the caller owns both; on failure the host table is released and the plugin's
    /// message becomes the error.
    func createInstance(_ create: PluginCreateFunction, name: String, configJSON: [UInt8],
                        services: any HostServices) throws(PluginLoadError) -> (OpaquePointer, HostTableBox) {
        let hostTable = HostTableBox(pluginName: name, services: services)
        var created: OpaquePointer?
        let (status, message) = withErrorBuffer { error in
            withSlice(configJSON) { create(hostTable.table, $0, &created, error) }
        }
        guard status == TOKENHUB_OK, let created else {
            hostTable.release()
            throw PluginLoadError(.createFailed, path: path, detail: message.isEmpty ? "status \(PluginStatus(code: status))" : message)
        }
        return (created, hostTable)
    }
}

/// What every host-side instance of a plugin kind holds: its configured name, its library, the
/// plugin's vtable for that kind, the plugin's instance, and the host table handed to it.
/// `DispatcherInstance`, `StoreInstance` and `TelemetryInstance` add their kind's calls.
///
/// THREAD: immutable; the subclasses state which of their calls may run concurrently.
public class PluginInstance<VTable>: @unchecked Sendable {
    /// The configured name (e.g. "direct", "sqlite").
    public let name: String
    /// The library it came from.
    public let library: PluginLibrary

    let vtable: UnsafePointer<VTable>
    let instance: OpaquePointer
    let hostTable: HostTableBox

    init(name: String, library: PluginLibrary, vtable: UnsafePointer<VTable>, instance: OpaquePointer, hostTable: HostTableBox) {
        self.name = name
        self.library = library
        self.vtable = vtable
        self.instance = instance
        self.hostTable = hostTable
    }
}
