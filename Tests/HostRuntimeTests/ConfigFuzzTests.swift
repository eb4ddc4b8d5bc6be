import Foundation
import HostRuntime
import Testing
import TestSupport

/// The config reader on generated documents: mutations of a config that uses every section,
/// each either read or refused with a `ConfigError` naming where, never a trap. Structured
/// mutations from a fixed seed, in process; the coverage-guided fuzzing of the same reader is
/// Tests/Fuzz/ConfigReaderFuzz.swift (scripts/fuzz.sh).
@Suite("Config reader fuzz")
struct ConfigFuzzTests {
    static let base = """
    server:
      listen: 127.0.0.1:8080
      admin_token: t0123456789
      body_limit_bytes: 10485760
      require_api_key: false
      idle_timeout_ms: 60000
      max_connections: 4096
      shutdown_timeout_ms: 30000
      rate_limit: {enabled: true, requests_per_second: 10, burst: 20, trusted_proxies: [10.0.0.1]}
    plugins:
      dir: ~
    dispatch:
      chain:
        - plugin: DirectDispatch
          name: direct
          enabled: true
          config: {}
    providers:
      - {id: echo, type: echo}
      - {id: openai, type: openai, base_url: https://api.openai.com/v1, api_key: k, timeout_ms: 60000}
      - {id: local, type: vllm, base_urls: [http://gpu1:8000/v1, http://gpu2:8000/v1]}
    models:
      - {id: echo-1, provider: echo, weight: 5, max_context_tokens: 32768, input_price_per_1k: 0, output_price_per_1k: 0}
      - {id: gpt, provider: openai, upstream_model: gpt-4o-mini, weight: 6, max_context_tokens: 128000}
    routing: {mode: normal, max_budget_usd: 0.05, max_latency_ms: 20000, min_weight: 0}
    store: {plugin: SQLiteStore, config: {path: tokenhub.db}}
    telemetry: [PrometheusTelemetry]
    retention: {tsdb_days: 30}
    temporal: {enabled: false, host: localhost:7233, namespace: tokenhub, task_queue: tokenhub-tasks}
    """

    static let scalars = ["1e300", "-1e300", "-1", "0", "1.5", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
                          "nan", ".inf", "-.inf", "''", "~", "true", "[]", "{}", "[1, [2]]", "x", "${UNSET_VAR}", "${X:-5}", "0x10",
                          "1_000", "0o17", "!!binary aGk=", "&a x", "*a", "'\\u0000'", "\"\\x00\"", "2026-12-02", "-0"]

    @Test("20 000 generated config documents: each is read or refused with a ConfigError, never a crash")
    func generatedDocuments() {
        var random = SplitMix64(state: 0xC0_F1_6_2026)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let lines = Self.base.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var accepted = 0, refused = 0
        for _ in 0..<20_000 {
            var document = lines
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let index = Int(random.next() % UInt64(document.count))
                switch random.next() % 6 {
                case 0:  // a value becomes a hostile scalar
                    if let colon = document[index].lastIndex(of: ":") {
                        document[index] = String(document[index][...colon]) + " " + pick(Self.scalars)
                    }
                case 1:  // a flow mapping's value becomes a hostile scalar
                    let line = document[index]
                    if let range = line.range(of: #": [^,{}\[\]]+"#, options: .regularExpression) {
                        document[index] = line.replacingCharacters(in: range, with: ": " + pick(Self.scalars))
                    }
                case 2: document.remove(at: index)
                case 3: document.insert(document[index], at: index)
                case 4: document[index] = String(repeating: " ", count: Int(random.next() % 5)) + document[index].trimmingCharacters(in: .whitespaces)
                default:  // a random byte somewhere in the line
                    var bytes = Array(document[index].utf8)
                    bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: Int(random.next() % UInt64(bytes.count + 1)))
                    document[index] = String(decoding: bytes, as: UTF8.self)
                }
            }
            do {
                _ = try ConfigLoader.parse(yaml: document.joined(separator: "\n"), source: "fuzz.yaml", environment: ["X": "7"])
                accepted += 1
            } catch {
                #expect(error.source == "fuzz.yaml")
                #expect(!error.message.isEmpty)
                refused += 1
            }
        }
        #expect(accepted > 100 && refused > 1000, "accepted \(accepted), refused \(refused): the mutations should exercise both paths")
    }
}
