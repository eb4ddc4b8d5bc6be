import Foundation
import Logging
import TokenHubCore

/// Deletes TSDB points older than the retention (`retention.tsdb_days`) through the store's
/// `tsdb.prune`: once at start, then every hour. Backend-agnostic, so every store gets it.
enum TimeSeriesRetention {
    static let interval: Duration = .seconds(3600)

    /// Runs until cancelled; does nothing when `days` is 0 (keep forever).
    static func run(store: StoreInstance, days: Int, logger: Logger) async {
        guard days > 0 else { return }
        while !Task.isCancelled {
            let cutoff = (Date().timeIntervalSince1970 - Double(days) * 86_400) * 1000
            let reply = await store.call("tsdb.prune", JSONValue.object(["before_unix_ms": .number(cutoff.rounded())]).serialized)
            if reply.status == .ok {
                let deleted = (try? JSONValue.parse(reply.result))?["deleted"]?.numberValue ?? 0
                if deleted > 0 { logger.info("tsdb: pruned points older than \(days) days", metadata: ["deleted": "\(Int(deleted))"]) }
            } else {
                logger.error("tsdb: prune failed", metadata: ["error": "\(reply.message)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
