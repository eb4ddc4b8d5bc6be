@testable import HostRuntime
import Testing
import TokenHubCore

@Suite("Stats windows")
struct StatsWindowsTests {
    func sample(_ model: String, key: String = "k1", success: Bool = true, latency: Int, cost: Double = 0.01, tokens: Int = 10) -> StatsWindows.Sample {
        StatsWindows.Sample(model: model, provider: "p", apiKey: key, mode: "normal", success: success, latencyMs: latency, costUSD: cost, tokens: tokens)
    }

    @Test("a scripted sequence: each window counts exactly its minutes, by every grouping, with percentiles within the histogram's precision")
    func scripted() throws {
        var stats = StatsWindows()
        let now: Int64 = 29_000_000  // minutes since 1970
        for latency in 1...100 { stats.record(sample("m1", latency: latency * 10), minute: now) }   // 10…1000 ms
        stats.record(sample("m2", key: "k2", success: false, latency: 50), minute: now)
        stats.record(sample("m1", latency: 20), minute: now - 3)        // in 5m, 1h, 24h
        stats.record(sample("m1", latency: 20), minute: now - 120)      // in 24h only
        stats.record(sample("m1", latency: 20), minute: now - 60 * 25)  // in none
        let report = stats.report(now: now)
        func window(_ name: String) throws -> JSONValue { try #require(report["windows"]?[name]) }
        #expect(try window("1m")["global"]?["requests"] == .number(101))
        #expect(try window("5m")["global"]?["requests"] == .number(102))
        #expect(try window("1h")["global"]?["requests"] == .number(102))
        #expect(try window("24h")["global"]?["requests"] == .number(103))
        let minute = try window("1m")
        #expect(minute["global"]?["errors"] == .number(1))
        #expect(abs((minute["global"]?["error_rate"]?.numberValue ?? 0) - 1.0 / 101) < 1e-12)
        #expect(abs((minute["global"]?["cost_usd"]?.numberValue ?? 0) - 1.01) < 1e-9)
        #expect(minute["global"]?["tokens"] == .number(1010))
        #expect(minute["by_model"]?["m1"]?["requests"] == .number(100))
        #expect(minute["by_model"]?["m2"]?["errors"] == .number(1))
        #expect(minute["by_api_key"]?["k2"]?["requests"] == .number(1))
        #expect(minute["by_api_key"]?["k1"]?["latency_ms"] == nil, "keys carry no histogram")
        #expect(minute["by_mode"]?["normal"]?["requests"] == .number(101))
        // m1's latencies are 10, 20, … 1000 ms: p50 = 500, p95 = 950, p99 = 990 (two significant digits).
        let latency = try #require(minute["by_model"]?["m1"]?["latency_ms"])
        for (percentile, exact) in [("p50", 500.0), ("p95", 950.0), ("p99", 990.0)] {
            let value = try #require(latency[percentile]?.numberValue)
            #expect(abs(value - exact) <= exact * 0.01 + 1, "\(percentile) \(value) vs \(exact)")
        }
    }

    @Test("out-of-range input is clamped, never a trap: negative latency, huge latency, NaN cost, negative and enormous tokens")
    func hostileSamples() {
        var stats = StatsWindows()
        stats.record(sample("m", latency: -5, cost: .nan, tokens: -3), minute: 10)
        stats.record(sample("m", latency: Int.max, cost: .infinity, tokens: Int.max), minute: 10)
        stats.record(sample("m", latency: 1, tokens: Int.max), minute: 10)
        let global = stats.report(now: 10)["windows"]?["1m"]?["global"]
        #expect(global?["requests"] == .number(3))
        #expect(global?["cost_usd"] == .number(0.01), "NaN and infinity count as 0; the third sample's 0.01 stays")
        #expect(global?["tokens"] == .number(Double(Int.max)))
    }
}
