import Foundation
import Logging
import PluginKit
import Synchronization
import TokenHubCore

/// Where every request's outcome goes: a log line, the telemetry plugins, and the store's
/// request log when a store is configured. Rows are queued and written in batches, one queue
/// per store: while one batch is in the store, the next accumulates, so the host's batching
/// window is one store round trip (the store may hold a batch for its own commit window). A
/// request records into the store of the generation it ran on, so rows of requests still in
/// flight when a reload switched stores go to the old one. `flush(store:)` (before a store
/// stops) writes what is queued for it. A failing store never fails a request: the drop is
/// counted and logged at most once per interval.
///
/// THREAD: all methods may be called concurrently.
final class ResultRecorder: Sendable {
    private let logger: Logger
    /// The running generation's store: where records without a generation go (a plugin's
    /// `host_log_result`).
    private let store = Mutex<StoreInstance?>(nil)
    private struct Queue {
        var rows: [JSONValue] = []
        var flushing: Task<Void, Never>?
    }
    /// One queue per store, by the store's identity.
    private let queues = Mutex<[ObjectIdentifier: Queue]>([:])
    /// The most rows one batch carries.
    static let maxBatch = 512
    /// The most rows waiting for a stalled store (default 50 000); past it new rows are
    /// dropped and counted (memory stays bounded however long the store stalls).
    let maxQueuedRows: Int
    private let drops = Mutex<(count: Int, lastReport: ContinuousClock.Instant?)>((0, nil))
    /// Stores being stopped: their rows are no longer kept for a retry.
    private let stopping = Mutex<Set<ObjectIdentifier>>([])
    /// Whether rows are waiting for an unavailable store (logged once per outage).
    private let retrying = Mutex(false)
    /// Ids already recorded: a second record of the same request is skipped.
    private let recent = Mutex(RecentRequestIDs())
    static let dropReportInterval: Duration = .seconds(10)

    /// The gateway's default policy: rewards of requests that carry no budget use its.
    private let defaults: Policy

    private let telemetry: TelemetryFanOut

    private let events: EventBus?
    private let stats: StatsCollector?

    init(logger: Logger, defaults: Policy = Policy(), telemetry: TelemetryFanOut = TelemetryFanOut(), events: EventBus? = nil,
         stats: StatsCollector? = nil, maxQueuedRows: Int = 50_000) {
        self.logger = logger
        self.events = events
        self.stats = stats
        self.maxQueuedRows = maxQueuedRows
        self.defaults = defaults
        self.telemetry = telemetry
    }

    /// Sends results to `store` from now on.
    func attach(_ store: StoreInstance?) {
        self.store.withLock { $0 = store }
    }

    /// Records one result into the running generation's store; see `record(_:into:)`.
    func record(_ result: LogResult) -> PluginReply {
        record(result, into: store.withLock { $0 })
    }

    /// Records one result, once per request id (a repeat is skipped and answers ok), into
    /// `store` (the generation's the request ran on; nil: none); answers ok even when the
    /// store drops it (it is counted).
    func record(_ result: LogResult, into store: StoreInstance?) -> PluginReply {
        guard result.requestID.isEmpty || recent.withLock({ $0.insert(result.requestID) }) else { return PluginReply(status: .ok) }
        // One pre-rendered message rather than metadata: swift-log's StreamLogHandler merges,
        // sorts and prettifies a metadata dictionary on every line (see the README's profile).
        logger.info("\(Self.requestLine(result))")
        if !telemetry.isEmpty { telemetry.observe(resultJSON: JSONCoding.encode(result)) }
        stats?.record(StatsWindows.Sample(
            model: result.output.decision.modelID, provider: result.output.decision.providerID, apiKey: result.apiKeyID, mode: result.mode,
            success: result.output.error.isEmpty, latencyMs: result.output.latencyMs, costUSD: result.output.decision.estimatedCostUSD,
            tokens: result.output.response["usage"]?["total_tokens"]?.countValue ?? 0))
        if let events {
            let decision = result.output.decision
            var fields: [String: JSONValue] = [
                "kind": .string(result.kind), "mode": .string(result.mode), "dispatcher": .string(result.dispatcher),
                "model_id": .string(decision.modelID), "provider_id": .string(decision.providerID),
                "latency_ms": .number(Double(result.output.latencyMs)), "estimated_cost_usd": .number(decision.estimatedCostUSD),
                "api_key_id": .string(result.apiKeyID),
            ]
            if let errorClass = result.output.errorClass { fields["error_class"] = .string(errorClass.rawValue) }
            events.publish(result.output.error.isEmpty ? .routeSuccess : .routeError, requestID: result.requestID.isEmpty ? nil : result.requestID, fields)
        }
        guard let store else { return PluginReply(status: .ok) }
        let row = Self.row(result, defaults: defaults)
        let key = ObjectIdentifier(store)
        let queued = queues.withLock { queues in
            // In place (`default:`): a copy out of the dictionary would copy the rows too.
            guard queues[key, default: Queue()].rows.count < maxQueuedRows else { return false }
            queues[key, default: Queue()].rows.append(row)
            if queues[key]?.flushing == nil {
                queues[key]?.flushing = Task { await self.drain(into: store) }
            }
            return true
        }
        if !queued { countDrop("the store is behind: \(maxQueuedRows) rows already wait", rows: 1) }
        return PluginReply(status: .ok)
    }

    /// The per-request log line: `request request_id=… kind=… dispatcher=… model=…
    /// latency_ms=… error_class=… error="…"` (the error JSON-quoted, so a line stays one line).
    static func requestLine(_ result: LogResult) -> String {
        let output = result.output
        var line = "request request_id=\(result.requestID) kind=\(result.kind) dispatcher=\(result.dispatcher) model=\(output.decision.modelID) latency_ms=\(output.latencyMs)"
        if !output.error.isEmpty {
            line += " error_class=\(output.errorClass?.rawValue ?? "") error=\(JSONValue.string(output.error).serializedString)"
        }
        return line
    }

    /// Writes everything queued so far, for every store, and waits for it.
    func flush() async {
        let running = queues.withLock { $0.values.compactMap(\.flushing) }
        for task in running { await task.value }
    }

    /// Writes everything queued for `store` and waits for it (before the store stops). Rows
    /// the store cannot take now are dropped and counted rather than holding the stop.
    func flush(store: StoreInstance) async {
        let key = ObjectIdentifier(store)
        stopping.withLock { _ = $0.insert(key) }
        let running = queues.withLock { $0[key]?.flushing }
        await running?.value
        // The store's last rows are written: its identity may be reused by a later object.
        stopping.withLock { _ = $0.remove(key) }
    }

    private func drain(into store: StoreInstance) async {
        let key = ObjectIdentifier(store)
        var retryDelay = Self.firstRetryDelay
        defer { retrying.withLock { $0 = false } }
        while true {
            let batch: [JSONValue] = queues.withLock { queues in
                guard let count = queues[key]?.rows.count, count > 0 else {
                    queues[key] = nil  // drained: the next record starts a new queue and drain
                    return []
                }
                let batch = Array(queues[key]!.rows.prefix(Self.maxBatch))
                queues[key]!.rows.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            let reply = await store.call("request_log.append_batch", JSONValue.object(["rows": .array(batch)]).serialized)
            guard reply.status != .ok else {
                retryDelay = Self.firstRetryDelay
                if retrying.withLock({ $0 }) {
                    retrying.withLock { $0 = false }
                    logger.notice("store available again: waiting request log rows written")
                    events?.publish(.storeRecovered, ["store": .string(store.name)])
                }
                continue
            }
            // An unreachable store (unavailable, or no answer in time: rows are written once per
            // request id, so a retry of a write that did land is harmless) keeps its rows: they go back to
            // the front of the queue and are tried again, with backoff, until the store answers,
            // the queue's bound drops new rows, or the store is being stopped.
            let keep = (reply.status == .unavailable || reply.status == .timeout) && !stopping.withLock { $0.contains(key) }
            let kept = keep && queues.withLock { queues in
                guard (queues[key]?.rows.count ?? 0) + batch.count <= maxQueuedRows else { return false }
                queues[key, default: Queue()].rows.insert(contentsOf: batch, at: 0)
                return true
            }
            guard kept else { countDrop(reply.message, rows: batch.count); continue }
            if !retrying.withLock({ $0 }) {
                retrying.withLock { $0 = true }
                logger.warning("store unavailable: keeping request log rows to write when it returns", metadata: ["error": "\(reply.message)"])
                events?.publish(.storeDegraded, ["store": .string(store.name), "error": .string(reply.message)])
            }
            try? await Task.sleep(for: retryDelay)
            retryDelay = min(retryDelay * 2, Self.maxRetryDelay)
        }
    }

    /// The first wait before writing to an unavailable store again; it doubles up to `maxRetryDelay`.
    static let firstRetryDelay: Duration = .milliseconds(250)
    static let maxRetryDelay: Duration = .seconds(2)

    /// Results the store failed to write since start.
    var dropCount: Int { drops.withLock { $0.count } }

    private func countDrop(_ reason: String, rows: Int) {
        let now = ContinuousClock.now
        let report: Int? = drops.withLock { state in
            state.count += rows
            guard state.lastReport.map({ now - $0 >= Self.dropReportInterval }) ?? true else { return nil }
            state.lastReport = now
            return state.count
        }
        if let total = report {
            logger.error("store dropped request log rows", metadata: ["dropped_total": "\(total)", "last_error": "\(reason)"])
        }
    }

    /// The store's request log row for a result, carrying its reward entry and TSDB points
    /// (the store writes all three once per request id).
    static func row(_ result: LogResult, defaults: Policy = Policy()) -> JSONValue {
        let time = JSONValue.number((Date().timeIntervalSince1970 * 1000).rounded())
        let decision = result.output.decision
        let success = result.output.error.isEmpty
        let reward = result.reward(defaultBudgetUSD: defaults.maxBudgetUSD, defaultMaxLatencyMs: defaults.maxLatencyMs)
        func point(_ metric: String, _ value: Double) -> JSONValue {
            .object(["metric": .string(metric), "model_id": .string(decision.modelID), "provider_id": .string(decision.providerID),
                     "time_unix_ms": time, "value": .number(value)])
        }
        var points = [point("latency_ms", Double(result.output.latencyMs)), point("cost_usd", decision.estimatedCostUSD),
                      point("errors", success ? 0 : 1)]
        if let tokens = result.output.response["usage"]?["total_tokens"]?.countValue { points.append(point("tokens", Double(tokens))) }
        return .object([
            "request_id": .string(result.requestID),
            "time_unix_ms": time,
            "api_key_id": .string(result.apiKeyID),
            "kind": .string(result.kind),
            "mode": .string(result.mode),
            "model_id": .string(decision.modelID),
            "provider_id": .string(decision.providerID),
            "dispatcher": .string(result.dispatcher),
            "estimated_cost_usd": .number(decision.estimatedCostUSD),
            "latency_ms": .number(Double(result.output.latencyMs)),
            "status": .string(success ? "ok" : "error"),
            "error_class": .string(result.output.errorClass?.rawValue ?? ""),
            "reward": .object([
                "request_id": .string(result.requestID), "time_unix_ms": time, "api_key_id": .string(result.apiKeyID),
                "kind": .string(result.kind), "mode": .string(result.mode), "model_id": .string(decision.modelID),
                "provider_id": .string(decision.providerID), "success": .bool(success),
                "cost_usd": .number(decision.estimatedCostUSD), "latency_ms": .number(Double(result.output.latencyMs)),
                "reward": .number(reward),
            ]),
            "points": .array(points),
        ])
    }
}
