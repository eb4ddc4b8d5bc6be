import Synchronization
import TokenHubCore

/// The last good answer for each recently seen API key, used only while the store cannot
/// answer: a store outage then does not turn every known key into a 401 or 503.
///
/// Bounded twice: at most `capacity` keys (the least recently validated are dropped first),
/// and an entry older than `maxAge` is not used. Every request that reaches the store
/// refreshes its key's entry, and a key revoked while the store is down is refused from the
/// first request after it returns (the store is always asked first).
///
/// THREAD: safe from any task.
final class KeyCache: Sendable {
    let capacity: Int
    let maxAge: Duration
    private struct Entry { var record: JSONValue; var seen: ContinuousClock.Instant }
    private let entries = Mutex<[String: Entry]>([:])

    init(capacity: Int = 10_000, maxAge: Duration = .seconds(300)) {
        self.capacity = capacity
        self.maxAge = maxAge
    }

    /// Remembers `record`, the store's answer for the key hashed `hash`.
    func remember(_ hash: String, _ record: JSONValue, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            entries[hash] = Entry(record: record, seen: now)
            guard entries.count > capacity else { return }
            // Full: drop the oldest tenth at once, so the sort is paid once per many inserts.
            let oldest = entries.sorted { $0.value.seen < $1.value.seen }.prefix(max(1, capacity / 10)).map(\.key)
            for key in oldest { entries[key] = nil }
        }
    }

    /// Whether a store failure should be logged now: at most once per 10 s, so an outage under
    /// load writes a line, not one per request.
    func shouldReportFailure(now: ContinuousClock.Instant = .now) -> Bool {
        lastReport.withLock { last in
            guard last.map({ now - $0 >= .seconds(10) }) ?? true else { return false }
            last = now
            return true
        }
    }
    private let lastReport = Mutex<ContinuousClock.Instant?>(nil)

    /// Forgets a key the store no longer knows.
    func forget(_ hash: String) { entries.withLock { $0[hash] = nil } }

    /// The remembered answer for `hash`, if it is at most `maxAge` old.
    func recall(_ hash: String, now: ContinuousClock.Instant = .now) -> JSONValue? {
        entries.withLock { entries in
            guard let entry = entries[hash], now - entry.seen <= maxAge else { return nil }
            return entry.record
        }
    }
}
