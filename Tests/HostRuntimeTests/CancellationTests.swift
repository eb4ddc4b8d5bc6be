import Foundation
import HostRuntime
import PluginKit
import Synchronization
import Testing
import TestSupport
import TokenHubCore

/// Host services whose route-and-send waits until its task is cancelled, counting cancellations.
final class HangingServices: HostServices {
    let started = Mutex(0)
    let cancelled = Mutex(0)

    func log(plugin: String, level: LogLevel, message: String) {}
    func emitEvent(plugin: String, eventJSON: [UInt8]) {}
    func recordMetric(plugin: String, kind: MetricKind, name: String, labelsJSON: String, value: Double) {}
    func routeAndSend(_ chatInputJSON: [UInt8]) async -> PluginReply {
        started.withLock { $0 += 1 }
        do {
            try await Task.sleep(for: .seconds(60))
            return .failure(.internal, "not cancelled")
        } catch {
            cancelled.withLock { $0 += 1 }
            return .failure(.cancelled, "cancelled")
        }
    }
    func orchestrate(_ orchestrationInputJSON: [UInt8]) async -> PluginReply { .failure(.notSupported, "no") }
    func logResult(_ logResultJSON: [UInt8]) -> PluginReply { PluginReply(status: .ok) }
}

/// Records what a `CancelHook` is told, in order with what the test records.
final class RecordingCanceller: CancellableCalls {
    private let log = Mutex<[String]>([])
    var events: [String] { log.withLock { $0 } }
    func record(_ event: String) { log.withLock { $0.append(event) } }
    func cancelCall(_ userData: UnsafeMutableRawPointer) { record("cancel") }
}

/// ABI 1.3's cancel path end to end in one process: the host stops waiting (its task is
/// cancelled, or the deadline passes) → the plugin's `on_cancel` → the plugin's
/// `host_cancel` of its own `host_route_and_send` → the engine call's task is cancelled.
@Suite("Cancellation through the ABI (on_cancel, host_cancel)", .serialized)
struct CancellationTests {
    enum Plugin: String, CaseIterable, CustomStringConvertible {
        case cCanary = "the C canary example"
        case directDispatch = "DirectDispatch (Swift, PluginKit)"
        var description: String { rawValue }
    }

    func dispatcher(_ plugin: Plugin, services: HangingServices) async throws -> DispatcherInstance {
        let (path, config): (String, String) = switch plugin {
        case .cCanary: (try await ExampleBuilder.buildCanary(.c), ##"{"tag":"#c","model":"m"}"##)
        case .directDispatch: (TestPaths.buildProducts.appendingPathComponent("libDirectDispatch.so").path, "{}")
        }
        let instance = try DispatcherInstance.create(library: try PluginLibrary.load(path: path), name: "under-test",
                                                     configJSON: Array(config.utf8), services: services)
        try await instance.start()
        return instance
    }

    let input = JSONCoding.encode(ChatInput(requestID: "req-cancel", request: ChatRequest(
        messages: [.object(["role": .string("user"), "content": .string("#c please")])])))

    /// Polls `condition` for up to 15 s (a hang guard: under a loaded test run the cancel can
    /// take seconds to be scheduled).
    func waitUntil(_ condition: () -> Bool) async {
        _ = await eventually(timeout: .seconds(15), every: .milliseconds(25), condition)
    }

    @Test("cancelling the waiting request cancels the plugin's engine call", arguments: Plugin.allCases)
    func cancelReachesTheEngine(_ plugin: Plugin) async throws {
        let services = HangingServices()
        let instance = try await dispatcher(plugin, services: services)
        let input = self.input
        let request = Task { await instance.chat(input, deadline: .now + .seconds(30)) }
        await waitUntil { services.started.withLock { $0 } == 1 }
        #expect(services.started.withLock { $0 } == 1)
        request.cancel()
        let reply = await request.value
        #expect(reply.status == .cancelled)
        await waitUntil { services.cancelled.withLock { $0 } == 1 }
        #expect(services.cancelled.withLock { $0 } == 1, "the engine call was not cancelled")
        await instance.stop(deadline: .now + .seconds(5))
    }

    @Test("at the deadline the host answers a timeout and the plugin is told to cancel", arguments: Plugin.allCases)
    func deadlineCancels(_ plugin: Plugin) async throws {
        let services = HangingServices()
        let instance = try await dispatcher(plugin, services: services)
        let reply = await instance.chat(input, deadline: .now + .seconds(1))
        #expect(reply.status == .timeout)
        // On a loaded machine the plugin may not have issued its engine call by the deadline;
        // then it must not issue it later. Whatever call did start must be cancelled.
        await waitUntil { services.cancelled.withLock { $0 } == 1 }
        await instance.stop(deadline: .now + .seconds(5))
        let (started, cancelled) = (services.started.withLock { $0 }, services.cancelled.withLock { $0 })
        #expect(started <= 1)
        #expect(cancelled == started, "the engine call was not cancelled")
    }

    @Test("a cancel that comes while a call is being issued is told to the callee once the call is issued, not before")
    func cancelWhileStarting() async {
        let canceller = RecordingCanceller()
        let reply = await PendingReplies.shared.call(label: CallLabel("test", "start"), deadline: nil,
                                                     cancel: CancelHook(target: canceller)) { _, _ in
            withUnsafeCurrentTask { $0?.cancel() }  // the caller gives up while the C call is issued
            canceller.record("issued")
        }
        #expect(reply.status == .cancelled)
        #expect(canceller.events == ["issued", "cancel"], "a cancel told before the call was issued is lost")
    }

    @Test("once an instance is stopped, an abandoned call's cancel no longer reaches it (the lifecycle refuses it)")
    func noCancelAfterStop() async throws {
        let services = HangingServices()
        let instance = try await dispatcher(.cCanary, services: services)
        let input = self.input
        let stuck = Task { await instance.chat(input, deadline: .now + .seconds(30)) }
        await waitUntil { services.started.withLock { $0 } == 1 }
        await instance.stop(deadline: .now + .milliseconds(200))
        #expect(instance.state == .destroyed)
        stuck.cancel()  // the host stops waiting: its cancel must not call the destroyed canary
        #expect(await stuck.value.status == .cancelled)
        try await Task.sleep(for: .milliseconds(200))
        #expect(services.cancelled.withLock { $0 } == 0, "on_cancel ran on a destroyed instance")
    }
}
