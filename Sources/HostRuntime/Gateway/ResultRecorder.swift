import Foundation
import Logging
import PluginKit
import Synchronization
import TokenHubCore

/// Where every request's outcome goes: a log line, and the store's request log when a store
/// is configured. A failing store never fails a request: the drop is counted and logged at
/// most once per interval.
///
/// THREAD: all methods may be called concurrently.
final class ResultRecorder: Sendable {
    private let logger: Logger
    private let store = Mutex<StoreInstance?>(nil)
    private let drops = Mutex<(count: Int, lastReport: ContinuousClock.Instant?)>((0, nil))
    static let dropReportInterval: Duration = .seconds(10)

    init(logger: Logger) {
        self.logger = logger
    }

    /// Sends results to `store` from now on.
    func attach(_ store: StoreInstance?) {
        self.store.withLock { $0 = store }
    }

    /// Records one result; answers ok even when the store drops it (it is counted).
    func record(_ result: LogResult) async -> PluginReply {
        logger.info("request", metadata: [
            "request_id": "\(result.requestID)", "kind": "\(result.kind)", "dispatcher": "\(result.dispatcher)",
            "model": "\(result.output.decision.modelID)", "latency_ms": "\(result.output.latencyMs)",
            "error_class": "\(result.output.errorClass?.rawValue ?? "")",
        ])
        guard let store = store.withLock({ $0 }) else { return PluginReply(status: .ok) }
        let reply = await store.call("request_log.append", Self.row(result).serialized)
        if reply.status != .ok { countDrop(reply.message) }
        return PluginReply(status: .ok)
    }

    /// Results the store failed to write since start.
    var dropCount: Int { drops.withLock { $0.count } }

    private func countDrop(_ reason: String) {
        let now = ContinuousClock.now
        let report: Int? = drops.withLock { state in
            state.count += 1
            guard state.lastReport.map({ now - $0 >= Self.dropReportInterval }) ?? true else { return nil }
            state.lastReport = now
            return state.count
        }
        if let total = report {
            logger.error("store dropped request log rows", metadata: ["dropped_total": "\(total)", "last_error": "\(reason)"])
        }
    }

    /// The store's RequestLogRow for a result.
    static func row(_ result: LogResult) -> JSONValue {
        .object([
            "request_id": .string(result.requestID),
            "time_unix_ms": .number((Date().timeIntervalSince1970 * 1000).rounded()),
            "api_key_id": .string(result.apiKeyID),
            "kind": .string(result.kind),
            "mode": .string(result.mode),
            "model_id": .string(result.output.decision.modelID),
            "provider_id": .string(result.output.decision.providerID),
            "dispatcher": .string(result.dispatcher),
            "estimated_cost_usd": .number(result.output.decision.estimatedCostUSD),
            "latency_ms": .number(Double(result.output.latencyMs)),
            "status": .string(result.output.error.isEmpty ? "ok" : "error"),
            "error_class": .string(result.output.errorClass?.rawValue ?? ""),
        ])
    }
}
