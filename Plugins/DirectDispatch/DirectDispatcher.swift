import PluginAPI
import PluginKit
import TokenHubCore
import Synchronization

/// The default dispatcher and the fallback of every chain: runs the request in this
/// process through the host's engine, then records the result through the host.
final class DirectDispatcher: SwiftDispatcher {
    private let host: HostTable
    private let pendingRecords = Mutex(0)

    /// The configured instance name its records carry ("direct" unless renamed in config).
    private let name: String

    init(host: HostTable, configJSON: [UInt8]) throws {
        self.host = host
        name = host.instanceName ?? "direct"
        guard let config = try? JSONValue.parse(configJSON.isEmpty ? Array("{}".utf8) : configJSON),
              let members = config.objectValue else {
            throw PluginError("config: expected a JSON object")
        }
        if let unknown = members.keys.sorted().first {
            throw PluginError("config.\(unknown): unknown key (DirectDispatch takes no settings)")
        }
    }

    func start() throws {}

    // Every reply owes one record: counted before the reply leaves (so `stop()`, which the
    // host calls once replies are in, waits for it) and settled in `didReply`'s task.

    func chat(_ chatInputJSON: [UInt8]) async -> PluginReply {
        let reply = await host.routeAndSend(chatInputJSON)
        pendingRecords.withLock { $0 += 1 }
        return reply
    }

    func plan(_ orchestrationInputJSON: [UInt8]) async -> PluginReply {
        let reply = await host.orchestrate(orchestrationInputJSON)
        pendingRecords.withLock { $0 += 1 }
        return reply
    }

    /// Records off the request's critical path: the task is queued after the reply went out,
    /// so the client's answer is written first.
    func didReply(to kind: DispatchKind, input: [UInt8], reply: PluginReply) {
        Task {
            await record(kind: kind.rawValue, inputJSON: input, reply: reply)
            pendingRecords.withLock { $0 -= 1 }
        }
    }

    func stop() async {
        // The host drains requests before calling stop; what remains are pending records.
        while pendingRecords.withLock({ $0 }) > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// What `record` reads of a ChatInput or OrchestrationInput.
    private static let loggedInputMembers: Set<String> = ["request_id", "api_key_id", "policy", "directive"]

    /// Logs the outcome through the host (request log, metrics, events), as the seed's
    /// LogResultActivity does for workflows.
    private func record(kind: String, inputJSON: [UInt8], reply: PluginReply) async {
        // The request itself (the messages) is not needed for the log: stepped over, not built.
        guard reply.status == .ok || reply.status == .upstream,
              let input = try? JSONValue.parseMembers(Self.loggedInputMembers, of: inputJSON),
              let output = try? JSONCoding.decode(ChatOutput.self, from: reply.result) else { return }
        let requestID = input["request_id"]?.stringValue ?? ""
        let mode = input["policy"]?["mode"]?.stringValue ?? input["directive"]?["mode"]?.stringValue ?? ""
        let result = LogResult(requestID: requestID, apiKeyID: input["api_key_id"]?.stringValue ?? "", kind: kind, mode: mode,
                               output: output, dispatcher: name,
                               budgetUSD: input["policy"]?["max_budget_usd"]?.numberValue ?? 0,
                               maxLatencyMs: input["policy"]?["max_latency_ms"]?.countValue ?? 0)
        let logged = await host.logResult(JSONCoding.encode(result))
        if logged.status != .ok {
            host.log(TOKENHUB_LOG_WARNING, "log_result failed for \(requestID): \(logged.message)")
        }
    }
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "direct", version: "0.1.0", dispatcher: DirectDispatcher.self)
}
