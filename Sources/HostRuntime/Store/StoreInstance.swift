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
        let store = StoreInstance(name: name, library: library, vtable: vtable, instance: created, hostTable: hostTable)
        let startFunction = vtable.pointee.start!
        let started = await PendingReplies.shared.call(label: "\(name).start", deadline: .now + .seconds(60)) { done, userData in
            startFunction(created, done, userData)
        }
        guard started.status == .ok else {
            store.destroy()
            throw PluginLoadError(.startFailed, path: library.path, detail: started.message.isEmpty ? "status \(started.status)" : started.message)
        }
        return store
    }

    /// Runs one named operation (section 6 of the header) and waits for its result.
    public func call(_ operation: String, _ requestJSON: [UInt8], deadline: ContinuousClock.Instant? = .now + .seconds(30)) async -> PluginReply {
        let onCall = vtable.pointee.on_call!
        return await PendingReplies.shared.call(label: "\(name).\(operation)", deadline: deadline) { done, userData in
            withSlice(operation) { operationSlice in
                withSlice(requestJSON) { onCall(instance, operationSlice, $0, done, userData) }
            }
        }
    }

    /// Flushes every queued write, stops and destroys the instance.
    public func stop(deadline: ContinuousClock.Instant?) async {
        let stop = vtable.pointee.stop!
        let stopped = await PendingReplies.shared.call(label: "\(name).stop", deadline: deadline) { done, userData in
            stop(instance, done, userData)
        }
        guard stopped.status != .timeout else { return }  // still running in the plugin: never destroyed under it
        destroy()
    }

    private func destroy() {
        vtable.pointee.destroy(instance)
        hostTable.release()
    }
}
