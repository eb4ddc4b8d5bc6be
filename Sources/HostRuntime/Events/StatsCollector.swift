import Foundation
import Synchronization
import TokenHubCore

/// The gateway's `StatsWindows`, fed by every recorded result and read by
/// `GET /admin/v1/stats`. With a store, `rebuild` replays the last day's request-log rows at
/// start, so a restart does not blank the windows (rows carry no token counts: tokens restart
/// from zero).
///
/// THREAD: safe from any thread.
final class StatsCollector: Sendable {
    private let windows = Mutex(StatsWindows())

    static func minute(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 / 60).rounded(.down)) }

    func record(_ sample: StatsWindows.Sample, at date: Date = Date()) {
        let minute = Self.minute(date)
        windows.withLock { $0.record(sample, minute: minute) }
    }

    func report(at date: Date = Date()) -> JSONValue {
        let minute = Self.minute(date)
        return windows.withLock { $0.report(now: minute) }
    }

    /// Replays the store's request-log rows of the 24 hours before `before` (the gateway's
    /// start: later rows were recorded live), newest first, at most `limit`; returns how many.
    @discardableResult
    func rebuild(from store: StoreInstance, before: Date, limit: Int = 200_000) async -> Int {
        let since = (before.timeIntervalSince1970 - 86_400) * 1000
        let until = before.timeIntervalSince1970 * 1000
        var offset = 0, read = 0
        while read < limit {
            let reply = await store.call("request_log.list", JSONValue.object(["limit": .number(1000), "offset": .number(Double(offset))]).serialized)
            guard reply.status == .ok, let rows = (try? JSONValue.parse(reply.result))?["rows"]?.arrayValue, !rows.isEmpty else { break }
            var older = false
            for row in rows {
                guard let time = row["time_unix_ms"]?.numberValue, time >= since else { older = true; break }
                guard time < until else { continue }
                record(StatsWindows.Sample(
                    model: row["model_id"]?.stringValue ?? "", provider: row["provider_id"]?.stringValue ?? "",
                    apiKey: row["api_key_id"]?.stringValue ?? "", mode: row["mode"]?.stringValue ?? "",
                    success: row["status"]?.stringValue == "ok", latencyMs: row["latency_ms"]?.countValue ?? 0,
                    costUSD: row["estimated_cost_usd"]?.numberValue ?? 0, tokens: 0), at: Date(timeIntervalSince1970: time / 1000))
                read += 1
            }
            if older || rows.count < 1000 { break }
            offset += rows.count
        }
        return read
    }
}
