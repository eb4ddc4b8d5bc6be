import Foundation
import HostRuntime
import PluginKit
import Testing
import TestSupport
import TokenHubCore

@Suite("Dispatch chain over real plugin libraries")
struct DispatchChainTests {
    func instance(_ fixture: String, name: String, config: String = "{}", services: FakeServices = FakeServices()) async throws -> DispatcherInstance {
        let library = try PluginLibrary.load(path: try await CPluginBuilder.build(fixture))
        let instance = try DispatcherInstance.create(library: library, name: name, configJSON: Array(config.utf8), services: services)
        try await instance.start()
        return instance
    }

    func chatInput(_ id: String) -> [UInt8] {
        let input = ChatInput(requestID: id, request: ChatRequest(messages: [.object(["role": .string("user"), "content": .string("hi")])]))
        return Array(try! JSONCoding.encode(input))
    }

    @Test("the C relay calls the host's route-and-send and returns its answer")
    func relayServes() async throws {
        let services = FakeServices()
        let relay = try await instance("relay_dispatch", name: "relay", services: services)
        let chain = DispatchChain([relay])
        let outcome = await chain.chat(chatInput("req-1"), deadline: .now + .seconds(5))
        #expect(outcome.reply.status == .ok)
        #expect(outcome.servedBy == "relay")
        let output = try JSONCoding.decode(ChatOutput.self, from: Data(outcome.reply.result))
        #expect(output.response["echo"] == .string("req-1"))
        #expect(services.routed.withLock { $0.map(\.requestID) } == ["req-1"])
        #expect(services.logs.withLock { $0 } == ["relay: relay dispatcher started"])
        await chain.stopAll(deadline: .now + .seconds(5))
    }

    @Test("unavailable passes to the next dispatcher; the first that accepts serves")
    func fallsThrough() async throws {
        let declining = try await instance("relay_dispatch", name: "declining", config: #"{"unavailable":true}"#)
        let serving = try await instance("relay_dispatch", name: "serving")
        let chain = DispatchChain([declining, serving])
        let outcome = await chain.chat(chatInput("req-2"), deadline: .now + .seconds(5))
        #expect(outcome.servedBy == "serving")
        #expect(outcome.passed.map(\.name) == ["declining"])
        #expect(outcome.passed.first?.reason == "relay is configured to decline")
        await chain.stopAll(deadline: .now + .seconds(5))
    }

    @Test("when every dispatcher declines, the answer is unavailable with each reason")
    func allDecline() async throws {
        let declining = try await instance("relay_dispatch", name: "declining", config: #"{"unavailable":true}"#)
        let chain = DispatchChain([declining])
        let outcome = await chain.chat(chatInput("req-3"), deadline: .now + .seconds(5))
        #expect(outcome.reply.status == .unavailable)
        #expect(outcome.servedBy == nil)
        #expect(outcome.reply.message.contains("declining: relay is configured to decline"))
        let plan = await chain.plan(Array("{}".utf8), deadline: .now + .seconds(5))
        #expect(plan.reply.status == .unavailable, "a dispatcher without on_plan passes plans on")
        await chain.stopAll(deadline: .now + .seconds(5))
    }

    @Test("a plugin completing twice is counted and ignored, not a crash")
    func completesTwice() async throws {
        let twice = try await instance("misbehaving", name: "twice", config: #"{"behavior":"twice"}"#)
        let before = PendingReplies.shared.strayCompletions
        let reply = await twice.chat(chatInput("req-4"), deadline: .now + .seconds(5))
        #expect(reply.status == .ok)
        #expect(PendingReplies.shared.strayCompletions == before + 1)
        await twice.stop(deadline: .now + .seconds(5))
    }

    @Test("a plugin that never completes is answered with a timeout at the deadline")
    func neverCompletes() async throws {
        let never = try await instance("misbehaving", name: "never", config: #"{"behavior":"never"}"#)
        // The process-wide sweeper (every 100 ms) answers it; the message names the call, so
        // the test does not race that sweeper with one of its own.
        let answer = await never.chat(chatInput("req-5"), deadline: .now + .milliseconds(50))
        #expect(answer.status == .timeout)
        #expect(answer.message.contains("never.on_chat: no completion before the deadline"))
        await never.stop(deadline: .now + .seconds(5))
    }
}
