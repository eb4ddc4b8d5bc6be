// The cost of one no-op dispatch through the C ABI, callback included, against a direct
// Swift call. Run through `bench/abi.sh`, which builds in release mode and compiles the C
// no-op plugin; prints ns/call.
import Foundation
import HostRuntime
import PluginAPI
import PluginKit
import TokenHubCore

/// Host services that answer at once: the plugin side's cost is all that is measured.
struct NoopServices: HostServices {
    static let output = JSONCoding.encode(ChatOutput(decision: Decision(modelID: "noop")))
    func log(plugin: String, level: LogLevel, message: String) {}
    func emitEvent(plugin: String, eventJSON: [UInt8]) {}
    func recordMetric(plugin: String, kind: MetricKind, name: String, labelsJSON: String, value: Double) {}
    func routeAndSend(_ chatInputJSON: [UInt8]) async -> PluginReply { PluginReply(status: .ok, result: Self.output) }
    func orchestrate(_ orchestrationInputJSON: [UInt8]) async -> PluginReply { PluginReply(status: .ok, result: Self.output) }
    func logResult(_ logResultJSON: [UInt8]) -> PluginReply { PluginReply(status: .ok) }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: ABIBench <libnoop.so> <libDirectDispatch.so> [iterations]")
    exit(2)
}
let iterations = arguments.count > 3 ? Int(arguments[3]) ?? 200_000 : 200_000
let input = JSONCoding.encode(ChatInput(
    requestID: "req-bench", request: ChatRequest(messages: [.object(["role": .string("user"), "content": .string("hi")])])))

/// The baseline: an async call through an existential the optimizer cannot see through.
@inline(never)
nonisolated func callDirect(_ services: any HostServices, _ input: [UInt8]) async -> PluginReply {
    await services.routeAndSend(input)
}

nonisolated func measure(_ label: String, _ count: Int, _ body: () async -> PluginReply) async -> Double {
    for _ in 0..<min(count, 10_000) { _ = await body() }  // warm up
    let start = ContinuousClock.now
    for _ in 0..<count {
        let reply = await body()
        precondition(reply.status == .ok, "\(label): \(reply.message)")
    }
    let elapsed = ContinuousClock.now - start
    let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    let perCall = nanoseconds / Double(count)
    print(String(format: "%-58@ %10.0f ns/call  (%d calls)", label as NSString, perCall, count))
    return perCall
}

/// Runs off the main actor: top-level code is main-actor isolated, and every hop back to it
/// would be measured instead of the ABI.
nonisolated func runBenchmarks(iterations: Int, input: [UInt8], cPath: String, swiftPath: String) async throws {
    let services = NoopServices()
    let cLibrary = try PluginLibrary.load(path: cPath)
    let cPlugin = try DispatcherInstance.create(library: cLibrary, name: "noop", configJSON: Array(#"{"behavior":"noop"}"#.utf8), services: services)
    try cPlugin.start()
    let swiftLibrary = try PluginLibrary.load(path: swiftPath)
    let swiftPlugin = try DispatcherInstance.create(library: swiftLibrary, name: "direct", configJSON: Array("{}".utf8), services: services)
    try swiftPlugin.start()
    let existential: any HostServices = services

    print("TokenHub ABI benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
    let direct = await measure("direct Swift call (HostServices.routeAndSend)", iterations) { await callDirect(existential, input) }
    let cCall = await measure("C plugin on_chat, no-op, through the ABI + callback", iterations) { await cPlugin.chat(input, deadline: nil) }
    let swiftCall = await measure("Swift DirectDispatch on_chat (2 host calls + 2 callbacks)", iterations / 4) {
        await swiftPlugin.chat(input, deadline: nil)
    }
    print(String(format: "ABI overhead of a no-op dispatch: %.0f ns/call (C plugin minus direct call); target <= 2000 ns", cCall - direct))
    print(String(format: "Swift plugin round trip: %.0f ns/call", swiftCall))
    await cPlugin.stop(deadline: nil)
    await swiftPlugin.stop(deadline: nil)
}

try await runBenchmarks(iterations: iterations, input: input, cPath: arguments[1], swiftPath: arguments[2])
