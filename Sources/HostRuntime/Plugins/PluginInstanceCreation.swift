import PluginAPI
import Synchronization
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
/// plugin's vtable for that kind, the plugin's instance, the host table handed to it, and its
/// lifecycle (`PluginLifecycle`, driven here). `DispatcherInstance`, `StoreInstance` and
/// `TelemetryInstance` add their kind's calls, each made through `admitted`.
///
/// THREAD: every method may be called from any task; `start` and `shutDown` once each.
public class PluginInstance<VTable>: @unchecked Sendable {
    /// The configured name (e.g. "direct", "sqlite").
    public let name: String
    /// The library it came from.
    public let library: PluginLibrary

    let vtable: UnsafePointer<VTable>
    let instance: OpaquePointer
    let hostTable: HostTableBox
    private let destroyFunction: @convention(c) (OpaquePointer?) -> Void

    private struct Guarded {
        var lifecycle = PluginLifecycle()
        var drainWaiter: CheckedContinuation<Void, Never>?
    }
    private let guarded = Mutex(Guarded())

    init(name: String, library: PluginLibrary, vtable: UnsafePointer<VTable>, instance: OpaquePointer, hostTable: HostTableBox,
         destroy: @escaping @convention(c) (OpaquePointer?) -> Void) {
        self.name = name
        self.library = library
        self.vtable = vtable
        self.instance = instance
        self.hostTable = hostTable
        destroyFunction = destroy
    }

    /// Where the instance is in its lifecycle.
    public var state: PluginLifecycle.State { guarded.withLock { $0.lifecycle.state } }

    /// Calls admitted and not yet finished.
    public var callsInFlight: Int { guarded.withLock { $0.lifecycle.inFlight } }

    /// Starts the instance with `start` (the kind's own call, which returns nil or the error);
    /// on failure the instance is destroyed and the error returned.
    func runStart(_ start: () async -> String?) async -> String? {
        guard guarded.withLock({ $0.lifecycle.start() }) == .callStart else { return "the instance was already started or stopped" }
        let error = await start()
        if guarded.withLock({ $0.lifecycle.started(error: error) }) == .destroy { destroyNow() }
        return error
    }

    /// Marks the instance running without a start call (a kind with no `start`: telemetry).
    func markStarted() {
        _ = guarded.withLock { $0.lifecycle.start() }
        _ = guarded.withLock { $0.lifecycle.started(error: nil) }
    }

    /// Makes `call` if the lifecycle admits it (the instance is running), counting it until it
    /// returns; otherwise answers `TOKENHUB_ERR_UNAVAILABLE` naming the state. A dispatch
    /// chain then offers the request to the next dispatcher.
    func admitted(_ call: () async -> PluginReply) async -> PluginReply {
        if let refusal = guarded.withLock({ $0.lifecycle.admit() }) {
            return .failure(.unavailable, "\(name): \(refusal)")
        }
        let reply = await call()
        finishCall()
        return reply
    }

    /// `admitted` for the synchronous hooks (telemetry's observers): skipped when refused.
    func admittedSync(_ call: () -> Void) {
        guard guarded.withLock({ $0.lifecycle.admit() }) == nil else { return }
        call()
        finishCall()
    }

    /// `admitted` for a cancel hook: also while draining, never after `stop` was called (so
    /// the hook never runs on a stopped or destroyed instance).
    func admittedCancel(_ call: () -> Void) {
        guard guarded.withLock({ $0.lifecycle.admitCancel() }) else { return }
        call()
        finishCall()
    }

    private func finishCall() {
        let waiter = guarded.withLock { guarded -> CheckedContinuation<Void, Never>? in
            guard guarded.lifecycle.finish() == .drained else { return nil }
            defer { guarded.drainWaiter = nil }
            return guarded.drainWaiter
        }
        waiter?.resume()
    }

    /// Refuses new calls, waits for the admitted ones to finish (until `deadline`), calls the
    /// kind's `stop` (bounded by `deadline` too), then destroys the instance, unless its stop
    /// never completed: then it is left alive rather than destroyed under a running stop.
    /// Calling it again does nothing.
    func shutDown(deadline: ContinuousClock.Instant?, stop: () async -> PluginReply) async {
        var action = guarded.withLock { $0.lifecycle.stop() }
        if action == .waitForDrain {
            await waitForDrain(until: deadline)
            action = guarded.withLock { $0.lifecycle.afterDrain() }
        }
        if action == .callStop {
            let reply = await stop()
            action = guarded.withLock { $0.lifecycle.stopCompleted(timedOut: reply.status == .timeout) }
        }
        if action == .destroy { destroyNow() }
    }

    /// Waits until the last admitted call finishes or `deadline` passes, whichever is first:
    /// woken by the finishing call or by a timer, never polled.
    private func waitForDrain(until deadline: ContinuousClock.Instant?) async {
        let timer = deadline.map { deadline in
            Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                let waiter = self.guarded.withLock { guarded -> CheckedContinuation<Void, Never>? in
                    guard guarded.lifecycle.drainDeadlinePassed() == .drained else { return nil }
                    defer { guarded.drainWaiter = nil }
                    return guarded.drainWaiter
                }
                waiter?.resume()
            }
        }
        await withCheckedContinuation { continuation in
            let drainedAlready = guarded.withLock { guarded -> Bool in
                guard guarded.lifecycle.state == .draining else { return true }
                guarded.drainWaiter = continuation
                return false
            }
            if drainedAlready { continuation.resume() }
        }
        timer?.cancel()
    }

    private func destroyNow() {
        destroyFunction(instance)
        hostTable.release()
        guarded.withLock { $0.lifecycle.destroyed() }
    }
}
