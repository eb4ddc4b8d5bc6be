import Histogram
import TokenHubCore

/// Request statistics over sliding windows (1 min, 5 min, 1 h, 24 h), globally and by model,
/// provider, API key and mode: count, errors, cost, tokens, and latency percentiles from HDR
/// histograms. Pure: the minute is passed in.
///
/// Memory is bounded by the layout: per-minute buckets for the last hour and per-hour buckets
/// for the last day, each holding only the groups that had requests. Latency histograms are
/// kept for the global, model, provider and mode groups; API keys, which can be many, get
/// counts, errors, cost and tokens.
struct StatsWindows {
    /// One finished request.
    struct Sample: Sendable {
        var model, provider, apiKey, mode: String
        var success: Bool
        var latencyMs: Int
        var costUSD: Double
        var tokens: Int
    }

    /// A group's totals.
    struct Aggregate {
        var count = 0, errors = 0, tokens = 0
        var costUSD = 0.0
        var latency: Histogram<UInt32>?

        init(histogram: Bool) {
            latency = histogram ? Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: Self.maxLatencyMs, numberOfSignificantValueDigits: .two) : nil
        }

        /// Latencies above this (an hour) are recorded as this.
        static let maxLatencyMs: UInt64 = 3_600_000

        mutating func add(_ sample: Sample) {
            count += 1
            if !sample.success { errors += 1 }
            costUSD += sample.costUSD.isFinite ? sample.costUSD : 0
            tokens = tokens.addingReportingOverflow(max(0, sample.tokens)).overflow ? Int.max : tokens + max(0, sample.tokens)
            latency?.record(min(UInt64(max(1, sample.latencyMs)), Self.maxLatencyMs))
        }

        mutating func merge(_ other: Aggregate) {
            count += other.count
            errors += other.errors
            costUSD += other.costUSD
            tokens = tokens.addingReportingOverflow(other.tokens).overflow ? Int.max : tokens + other.tokens
            if let theirs = other.latency {
                if latency == nil { latency = theirs } else { latency?.add(theirs) }
            }
        }

        var json: JSONValue {
            var object: [String: JSONValue] = [
                "requests": .number(Double(count)), "errors": .number(Double(errors)),
                "error_rate": .number(count == 0 ? 0 : Double(errors) / Double(count)),
                "cost_usd": .number(costUSD), "tokens": .number(Double(tokens)),
            ]
            if let latency, latency.totalCount > 0 {
                object["latency_ms"] = .object([
                    "p50": .number(Double(latency.valueAtPercentile(50))), "p95": .number(Double(latency.valueAtPercentile(95))),
                    "p99": .number(Double(latency.valueAtPercentile(99))), "max": .number(Double(latency.max)),
                ])
            }
            return .object(object)
        }
    }

    /// The groups of one bucket, by `"kind:name"` ("global" alone).
    struct Bucket {
        var index: Int64 = .min
        var groups: [String: Aggregate] = [:]

        mutating func add(_ sample: Sample) {
            for (key, histogram) in [("global", true), ("model:" + sample.model, true), ("provider:" + sample.provider, true),
                                     ("key:" + sample.apiKey, false), ("mode:" + sample.mode, true)] {
                groups[key, default: Aggregate(histogram: histogram)].add(sample)
            }
        }
    }

    /// The windows served, in minutes.
    static let windows: [(name: String, minutes: Int64)] = [("1m", 1), ("5m", 5), ("1h", 60), ("24h", 1440)]

    private var minutes = Array(repeating: Bucket(), count: 60)
    private var hours = Array(repeating: Bucket(), count: 24)

    /// Records `sample` as finished in minute `minute` (minutes since 1970).
    mutating func record(_ sample: Sample, minute: Int64) {
        Self.add(sample, to: &minutes, index: minute)
        Self.add(sample, to: &hours, index: minute / 60)
    }

    private static func add(_ sample: Sample, to ring: inout [Bucket], index: Int64) {
        let count = Int64(ring.count)
        let slot = Int(((index % count) + count) % count)
        // A sample older than what its slot holds is past the ring's horizon (a late replay):
        // it must not wipe the newer bucket.
        guard ring[slot].index <= index else { return }
        if ring[slot].index != index { ring[slot] = Bucket(index: index) }
        ring[slot].add(sample)
    }

    /// Every window as of minute `now`: the 1, 5 and 60 minutes ending with `now`'s minute, and
    /// the 24 hours ending with its hour.
    func report(now: Int64) -> JSONValue {
        var windows: [String: JSONValue] = [:]
        for (name, length) in Self.windows {
            var merged: [String: Aggregate] = [:]
            let sources = length <= 60
                ? minutes.filter { $0.index > now - length && $0.index <= now }
                : hours.filter { $0.index > now / 60 - 24 && $0.index <= now / 60 }
            for bucket in sources {
                for (key, aggregate) in bucket.groups { merged[key, default: Aggregate(histogram: false)].merge(aggregate) }
            }
            var window: [String: JSONValue] = ["global": (merged["global"] ?? Aggregate(histogram: false)).json]
            for (kind, label) in [("model", "by_model"), ("provider", "by_provider"), ("key", "by_api_key"), ("mode", "by_mode")] {
                var group: [String: JSONValue] = [:]
                for (key, aggregate) in merged where key.hasPrefix(kind + ":") { group[String(key.dropFirst(kind.count + 1))] = aggregate.json }
                window[label] = .object(group)
            }
            windows[name] = .object(window)
        }
        return .object(["windows": .object(windows)])
    }
}
