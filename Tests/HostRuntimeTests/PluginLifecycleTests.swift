import Foundation
import HostRuntime
import PluginKit
import Testing
import TestSupport
import TokenHubCore

/// The lifecycle state machine on its own: no library, no threads, no clock.
@Suite("Plugin lifecycle: the state machine")
struct PluginLifecycleTests {
    @Test("created → starting → running → stopping → stopped → destroyed, with nothing in flight")
    func happyPath() {
        var lifecycle = PluginLifecycle()
        #expect(lifecycle.start() == .callStart)
        #expect(lifecycle.start() == .none, "started once")
        #expect(lifecycle.started(error: nil) == .none)
        #expect(lifecycle.state == .running)
        #expect(lifecycle.stop() == .callStop)
        #expect(lifecycle.stop() == .none, "stopped once")
        #expect(lifecycle.stopCompleted(timedOut: false) == .destroy)
        lifecycle.destroyed()
        #expect(lifecycle.state == .destroyed)
    }

    @Test("calls are admitted only while running; after stop they are refused, naming the state")
    func admission() {
        var lifecycle = PluginLifecycle()
        #expect(lifecycle.admit() == PluginLifecycle.Refusal(state: .created), "not before start")
        _ = lifecycle.start()
        _ = lifecycle.started(error: nil)
        #expect(lifecycle.admit() == nil)
        #expect(lifecycle.inFlight == 1)
        #expect(lifecycle.stop() == .waitForDrain)
        guard let refusal = lifecycle.admit() else { Issue.record("admitted while draining"); return }
        #expect(refusal.description == "the instance is draining, not running")
        #expect(lifecycle.finish() == .drained, "the last call out ends the drain")
        #expect(lifecycle.afterDrain() == .callStop)
        _ = lifecycle.stopCompleted(timedOut: false)
        #expect(lifecycle.admit() == PluginLifecycle.Refusal(state: .stopped))
    }

    @Test("draining waits for every admitted call; the deadline ends it early; a late finish changes nothing")
    func drainingCounts() {
        var lifecycle = PluginLifecycle()
        _ = lifecycle.start()
        _ = lifecycle.started(error: nil)
        for _ in 0..<3 { _ = lifecycle.admit() }
        #expect(lifecycle.stop() == .waitForDrain)
        #expect(lifecycle.finish() == .none)
        #expect(lifecycle.finish() == .none)
        #expect(lifecycle.inFlight == 1)
        #expect(lifecycle.drainDeadlinePassed() == .drained)
        #expect(lifecycle.state == .stopping)
        #expect(lifecycle.drainDeadlinePassed() == .none)
        #expect(lifecycle.finish() == .none, "the straggler finishing after the deadline")
        #expect(lifecycle.inFlight == 0)
        #expect(lifecycle.afterDrain() == .callStop)
    }

    @Test("a failed start is destroyed once; a stop before or after it destroys nothing twice")
    func failedStart() {
        var lifecycle = PluginLifecycle()
        _ = lifecycle.start()
        #expect(lifecycle.started(error: "port taken") == .destroy)
        #expect(lifecycle.state == .failed("port taken"))
        lifecycle.destroyed()
        #expect(lifecycle.state == .destroyed)
        #expect(lifecycle.stop() == .none)
        var neverStarted = PluginLifecycle()
        #expect(neverStarted.stop() == .destroy, "created, never started: destroyed without a stop call")
    }

    @Test("a stop asked for while starting proceeds when the start reports")
    func stopWhileStarting() {
        var lifecycle = PluginLifecycle()
        _ = lifecycle.start()
        #expect(lifecycle.stop() == .none)
        #expect(lifecycle.started(error: nil) == .callStop)
        #expect(lifecycle.state == .stopping)
    }

    @Test("a stop that never completes leaves the instance alive (leaked), never destroyed under it")
    func stopTimesOut() {
        var lifecycle = PluginLifecycle()
        _ = lifecycle.start()
        _ = lifecycle.started(error: nil)
        _ = lifecycle.stop()
        #expect(lifecycle.stopCompleted(timedOut: true) == .none)
        #expect(lifecycle.state == .leaked)
        lifecycle.destroyed()
        #expect(lifecycle.state == .leaked)
    }
}

/// The lifecycle driven against real plugin libraries.
@Suite("Plugin lifecycle: real instances")
struct PluginInstanceLifecycleTests {
    func instance(_ fixture: String, config: String) async throws -> DispatcherInstance {
        let library = try PluginLibrary.load(path: try await CPluginBuilder.build(fixture))
        let instance = try DispatcherInstance.create(library: library, name: fixture, configJSON: Array(config.utf8), services: FakeServices())
        try await instance.start()
        return instance
    }

    let input = JSONCoding.encode(ChatInput(requestID: "req-life", request: ChatRequest(messages: [.object(["role": .string("user"), "content": .string("x")])])))

    @Test("a request after stop is answered unavailable (the chain moves on), never sent to the destroyed instance")
    func callAfterStop() async throws {
        let relay = try await instance("relay_dispatch", config: "{}")
        #expect(await relay.chat(input, deadline: .now + .seconds(60)).status == .ok)
        await relay.stop(deadline: .now + .seconds(60))
        #expect(relay.state == .destroyed)
        let late = await relay.chat(input, deadline: .now + .seconds(60))
        #expect(late.status == .unavailable)
        #expect(late.message == "relay_dispatch: the instance is destroyed, not running")
    }

    @Test("stop waits for a request in flight, woken by its completion; a request that never completes is bounded by the drain deadline")
    func drainIsBounded() async throws {
        let never = try await instance("misbehaving", config: #"{"behavior":"never"}"#)
        let input = self.input
        let stuck = Task { await never.chat(input, deadline: .now + .seconds(30)) }
        for _ in 0..<100 where never.callsInFlight == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(never.callsInFlight == 1)
        let started = ContinuousClock.now
        await never.stop(deadline: .now + .milliseconds(400))
        let took = ContinuousClock.now - started
        // Ended by the 400 ms drain deadline, long before the stuck call's own 30 s one.
        #expect(took >= .milliseconds(350) && took < .seconds(20), "stop took \(took)")
        #expect(never.state == .destroyed)
        stuck.cancel()
        #expect(await stuck.value.status == .cancelled)
    }
}
