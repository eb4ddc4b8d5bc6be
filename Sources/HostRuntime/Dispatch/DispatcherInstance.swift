import PluginAPI
import PluginKit

/// One dispatcher instance created from a plugin library, seen from the host.
///
/// Lifecycle: `create` → `start` → `chat`/`plan`… → `stop` → (destroyed by `stop`).
/// THREAD: `chat` and `plan` may run concurrently; `start` and `stop` are called once each.
public final class DispatcherInstance: PluginInstance<tokenhub_dispatch_vtable> {
    /// Creates an instance with the plugin's `create`, handing it a host table and its config.
    public static func create(
        library: PluginLibrary, name: String, configJSON: [UInt8], services: any HostServices
    ) throws(PluginLoadError) -> DispatcherInstance {
        let vtable = try library.factory(library.dispatchVTable, kind: "a dispatcher", instanceName: name)
        let (instance, hostTable) = try library.createInstance(vtable.pointee.create, name: name, configJSON: configJSON, services: services)
        return DispatcherInstance(name: name, library: library, vtable: vtable, instance: instance, hostTable: hostTable)
    }

    /// Starts the instance; on failure it is destroyed and must not be used again.
    public func start() throws(PluginLoadError) {
        let (status, message) = withErrorBuffer { vtable.pointee.start(instance, $0) }
        guard status == TOKENHUB_OK else {
            destroy()
            throw PluginLoadError(.startFailed, path: library.path, detail: message.isEmpty ? "status \(PluginStatus(code: status))" : message)
        }
    }

    /// Sends a ChatInput to the plugin and waits for its reply, at most until `deadline`;
    /// at the deadline, or if the waiting task is cancelled, the plugin's `on_cancel` is told.
    public func chat(_ chatInputJSON: [UInt8], deadline: ContinuousClock.Instant?) async -> PluginReply {
        let onChat = vtable.pointee.on_chat!
        return await PendingReplies.shared.call(label: "\(name).on_chat", deadline: deadline, cancel: cancelHook) { done, userData in
            withSlice(chatInputJSON) { onChat(instance, $0, done, userData) }
        }
    }

    /// Sends an OrchestrationInput; a plugin without `on_plan` answers unavailable.
    public func plan(_ orchestrationInputJSON: [UInt8], deadline: ContinuousClock.Instant?) async -> PluginReply {
        guard let onPlan = vtable.pointee.on_plan else {
            return .failure(.unavailable, "\(name) does not serve plans")
        }
        return await PendingReplies.shared.call(label: "\(name).on_plan", deadline: deadline, cancel: cancelHook) { done, userData in
            withSlice(orchestrationInputJSON) { onPlan(instance, $0, done, userData) }
        }
    }

    /// The plugin's `on_cancel` (ABI 1.3) for a call's user data; nil when it has none.
    private var cancelHook: CancelHook? {
        vtable.pointee.on_cancel.map { CancelHook(hook: $0, instance: instance) }
    }

    /// Drains and stops the instance, then destroys it.
    public func stop(deadline: ContinuousClock.Instant?) async {
        let stop = vtable.pointee.stop!
        let stopped = await PendingReplies.shared.call(label: "\(name).stop", deadline: deadline) { done, userData in
            stop(instance, done, userData)
        }
        // A stop that never completed may still be running in the plugin: its instance is
        // left alive (a leak at exit) rather than destroyed under it.
        guard stopped.status != .timeout else { return }
        destroy()
    }

    private func destroy() {
        vtable.pointee.destroy(instance)
        hostTable.release()
    }
}
