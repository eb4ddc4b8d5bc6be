// The dispatch-plugin hop: CPU per request of a chat served through DirectDispatch (the
// host encodes the ChatInput, the plugin calls host_route_and_send, the host decodes it, runs
// the engine, encodes the ChatOutput, the plugin hands it back, the host decodes it) against
// the same engine called in-process with the typed input, in alternating rounds of one run.
// Also the floor: a no-op C plugin through the ABI. Run through `bench/abi.sh`.
// Recording the result is left out of both: the host does it the same way either way.
import Engine
import Foundation
import HostRuntime
import PluginAPI
import PluginKit
import TokenHubCore

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: ABIBench <libnoop.so> <libDirectDispatch.so> [requests per round] [rounds] [concurrency]")
    exit(2)
}
let perRound = arguments.count > 3 ? Int(arguments[3]) ?? 20_000 : 20_000
let rounds = arguments.count > 4 ? Int(arguments[4]) ?? 7 : 7
let concurrency = max(1, arguments.count > 5 ? Int(arguments[5]) ?? 32 : 32)

/// Process CPU time (user + system, all threads) in microseconds.
func cpuMicroseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
}

/// One round: CPU µs per request over `count` requests, `concurrency` at a time (as a
/// gateway under load runs them; one at a time, every hop between threads is a wake-up).
nonisolated func round(_ count: Int, _ body: @escaping @Sendable () async -> Bool) async -> Double {
    let start = cpuMicroseconds()
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                for _ in stride(from: worker, to: count, by: concurrency) {
                    let ok = await body()
                    precondition(ok, "a request failed")
                }
            }
        }
    }
    return (cpuMicroseconds() - start) / Double(count)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
func describe(_ values: [Double]) -> String {
    String(format: "%7.2f µs  (range %.2f–%.2f)", median(values), values.min() ?? 0, values.max() ?? 0)
}

/// Runs off the main actor: top-level code is main-actor isolated, and every hop back to it
/// would be measured instead of the ABI.
nonisolated func run(noopPath: String, directPath: String) async throws {
    let engine = Engine(providers: [ProviderSpec(id: "echo", type: .echo)], models: [ModelSpec(id: "echo-1", providerID: "echo")])
    let services = engineOnlyHostServices(engine)
    let direct = try DispatcherInstance.create(library: try PluginLibrary.load(path: directPath), name: "direct",
                                               configJSON: Array("{}".utf8), services: services)
    try await direct.start()
    let noop = try DispatcherInstance.create(library: try PluginLibrary.load(path: noopPath), name: "noop",
                                             configJSON: Array(#"{"behavior":"noop"}"#.utf8), services: services)
    try await noop.start()
    let input = ChatInput(requestID: "req-bench", request: ChatRequest(messages: [.object(["role": .string("user"), "content": .string("hello there")])]))

    // What the gateway does per request on each path (DispatchOutcomeMapper for the plugin).
    let inProcess: @Sendable () async -> Bool = { await engine.routeAndSend(input).error.isEmpty }
    let throughPlugin: @Sendable () async -> Bool = {
        let bytes = PassThrough.encode(input)
        let reply = await direct.chat(bytes, deadline: nil)
        PassThrough.forget(input: bytes)
        return reply.status == .ok && PassThrough.decodeOutput(reply.result) != nil
    }
    let noopPlugin: @Sendable () async -> Bool = { await noop.chat(JSONCoding.encode(input), deadline: nil).status == .ok }

    print("TokenHub dispatch-plugin hop: \(rounds) alternating rounds of \(perRound) requests, \(concurrency) at a time, echo model, \(ProcessInfo.processInfo.activeProcessorCount) cores")
    _ = await round(perRound / 4, inProcess)  // warm up
    _ = await round(perRound / 4, throughPlugin)
    _ = await round(perRound / 4, noopPlugin)
    var engineCPU: [Double] = [], pluginCPU: [Double] = [], noopCPU: [Double] = [], hop: [Double] = []
    for _ in 0..<rounds {
        let a = await round(perRound, inProcess)
        let b = await round(perRound, throughPlugin)
        noopCPU.append(await round(perRound, noopPlugin))
        engineCPU.append(a)
        pluginCPU.append(b)
        hop.append(b - a)
    }
    print("CPU per request, median of \(rounds) rounds:")
    print("  engine in-process (typed ChatInput)             \(describe(engineCPU))")
    print("  through DirectDispatch (JSON + ABI + callbacks)  \(describe(pluginCPU))")
    print("  no-op C plugin through the ABI (the floor)       \(describe(noopCPU))")
    print("  the DirectDispatch hop (per-round difference)    \(describe(hop))   target <= 10 µs")
    print(String(format: "  ratio through plugin / in-process: %.2f×", median(pluginCPU) / median(engineCPU)))
    // The two encodings a JSON ABI cannot skip (the ChatInput to the plugin, the ChatOutput back).
    let output = await engine.routeAndSend(input)
    let encodeInput = await round(perRound, { JSONCoding.encode(input).count > 0 })
    let encodeOutput = await round(perRound, { JSONCoding.encode(output).count > 0 })
    print(String(format: "  of which encoding the ChatInput %.2f µs, the ChatOutput %.2f µs", encodeInput, encodeOutput))
    await direct.stop(deadline: nil)
    await noop.stop(deadline: nil)
}

try await run(noopPath: arguments[1], directPath: arguments[2])
