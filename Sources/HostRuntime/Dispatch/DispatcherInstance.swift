import PluginAPI
import PluginKit

/// One dispatcher instance created from a plugin library, seen from the host.
///
/// Lifecycle (`PluginLifecycle`): `create` → `start` → `chat`/`plan`… → `stop` (drains, then
/// destroys). A request after `stop` is refused as unavailable, never sent to the plugin.
/// THREAD: `chat` and `plan` may run concurrently; `start` and `stop` are called once each.
public final class DispatcherInstance: PluginInstance<tokenhub_dispatch_vtable>, CancellableCalls {
    /// Creates an instance with the plugin's `create`, handing it a host table and its config.
    public static func create(
        library: PluginLibrary, name: String, configJSON: [UInt8], services: any HostServices
    ) throws(PluginLoadError) -> DispatcherInstance {
        let vtable = try library.factory(library.dispatchVTable, kind: "a dispatcher", instanceName: name)
        let (instance, hostTable) = try library.createInstance(vtable.pointee.create, name: name, configJSON: configJSON, services: services)
        return DispatcherInstance(name: name, library: library, vtable: vtable, instance: instance, hostTable: hostTable,
                                  destroy: vtable.pointee.destroy)
    }

    /// Starts the instance; on failure it is destroyed and must not be used again.
    public func start() async throws(PluginLoadError) {
        let startFunction = vtable.pointee.start!
        let error = await runStart {
            let (status, message) = withErrorBuffer { startFunction(instance, $0) }
            return status == TOKENHUB_OK ? nil : (message.isEmpty ? "status \(PluginStatus(code: status))" : message)
        }
        if let error { throw PluginLoadError(.startFailed, path: library.path, detail: error) }
    }

    /// Sends a ChatInput to the plugin and waits for its reply, at most until `deadline`;
    /// at the deadline, or if the waiting task is cancelled, the plugin's `on_cancel` is told.
    public func chat(_ chatInputJSON: [UInt8], deadline: ContinuousClock.Instant?) async -> PluginReply {
        let onChat = vtable.pointee.on_chat!
        return await admitted {
            await PendingReplies.shared.call(label: CallLabel(name, "on_chat"), deadline: deadline, cancel: cancelHook) { done, userData in
                withSlice(chatInputJSON) { onChat(instance, $0, done, userData) }
            }
        }
    }

    /// Sends an OrchestrationInput; a plugin without `on_plan` answers unavailable.
    public func plan(_ orchestrationInputJSON: [UInt8], deadline: ContinuousClock.Instant?) async -> PluginReply {
        guard let onPlan = vtable.pointee.on_plan else {
            return .failure(.unavailable, "\(name) does not serve plans")
        }
        return await admitted {
            await PendingReplies.shared.call(label: CallLabel(name, "on_plan"), deadline: deadline, cancel: cancelHook) { done, userData in
                withSlice(orchestrationInputJSON) { onPlan(instance, $0, done, userData) }
            }
        }
    }

    /// The plugin's `on_cancel` (ABI 1.3) for a call's user data; nil when it has none.
    /// The hook holds the instance, whose lifecycle admits the plugin's `on_cancel` (never
    /// after `stop`, when the instance may be gone).
    private var cancelHook: CancelHook? {
        vtable.pointee.on_cancel == nil ? nil : CancelHook(target: self)
    }

    /// Calls the plugin's `on_cancel` for `userData`, if it has one and its lifecycle admits it.
    public func cancelCall(_ userData: UnsafeMutableRawPointer) {
        guard let onCancel = vtable.pointee.on_cancel else { return }
        admittedCancel { onCancel(instance, userData) }
    }

    /// Refuses new requests (they pass to the next dispatcher), waits for the running ones,
    /// stops and destroys the instance; every wait ends by `deadline`.
    public func stop(deadline: ContinuousClock.Instant?) async {
        let stop = vtable.pointee.stop!
        await shutDown(deadline: deadline) {
            await PendingReplies.shared.call(label: CallLabel(name, "stop"), deadline: deadline) { done, userData in
                stop(instance, done, userData)
            }
        }
    }
}
