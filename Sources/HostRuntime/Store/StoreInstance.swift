import PluginAPI
import PluginKit

/// One store instance created from a plugin library, seen from the host.
///
/// Lifecycle: `create` → `start` → `call`… → `stop` (flushes, then destroys).
/// THREAD: `call` may run concurrently; `start` and `stop` are called once each.
public final class StoreInstance: PluginInstance<tokenhub_store_vtable> {
    /// Creates and starts (opens, migrates) a store; any failure is a `PluginLoadError`.
    public static func start(
        library: PluginLibrary, name: String, configJSON: [UInt8], services: any HostServices
    ) async throws(PluginLoadError) -> StoreInstance {
        let vtable = try library.factory(library.storeVTable, kind: "the store", instanceName: name)
        let (created, hostTable) = try library.createInstance(vtable.pointee.create, name: name, configJSON: configJSON, services: services)
        let store = StoreInstance(name: name, library: library, vtable: vtable, instance: created, hostTable: hostTable,
                                  destroy: vtable.pointee.destroy)
        let startFunction = vtable.pointee.start!
        let error = await store.runStart {
            let started = await PendingReplies.shared.call(label: CallLabel(name, "start"), deadline: .now + .seconds(60)) { done, userData in
                startFunction(created, done, userData)
            }
            return started.status == .ok ? nil : (started.message.isEmpty ? "status \(started.status)" : started.message)
        }
        if let error { throw PluginLoadError(.startFailed, path: library.path, detail: error) }
        return store
    }

    /// Runs one named operation (section 6 of the header) and waits for its result.
    public func call(_ operation: String, _ requestJSON: [UInt8], deadline: ContinuousClock.Instant? = .now + .seconds(30)) async -> PluginReply {
        let onCall = vtable.pointee.on_call!
        return await admitted {
            await PendingReplies.shared.call(label: CallLabel(name, operation), deadline: deadline) { done, userData in
                withSlice(operation) { operationSlice in
                    withSlice(requestJSON) { onCall(instance, operationSlice, $0, done, userData) }
                }
            }
        }
    }

    /// Refuses new operations, waits for the running ones, flushes (the plugin's `stop`) and
    /// destroys the instance; every wait ends by `deadline`.
    public func stop(deadline: ContinuousClock.Instant?) async {
        let stop = vtable.pointee.stop!
        await shutDown(deadline: deadline) {
            await PendingReplies.shared.call(label: CallLabel(name, "stop"), deadline: deadline) { done, userData in
                stop(instance, done, userData)
            }
        }
    }
}
