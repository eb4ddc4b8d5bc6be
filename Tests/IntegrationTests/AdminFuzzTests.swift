import AsyncHTTPClient
import Foundation
import HostRuntime
import NIOCore
import Testing
import TestSupport
import TokenHubCore

/// Generated admin requests: bodies and query strings for every route of `AdminEndpoint`.
struct AdminRequestGenerator {
    var random: SplitMix64

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }

    /// Field names the admin routes read, so generated bodies hit real validation paths.
    static let fields = ["id", "name", "type", "base_url", "base_urls", "api_key", "timeout_ms", "enabled", "provider", "upstream_model",
                         "weight", "max_context_tokens", "input_price_per_1k", "output_price_per_1k", "scopes", "expires_unix_ms",
                         "monthly_budget_usd", "rate_limit_rps", "mode", "max_budget_usd", "max_latency_ms", "min_weight"]
    static let queryNames = ["limit", "offset", "start", "end", "step", "metric", "model", "provider", "mode", "since", "status", "api_key_id"]
    static let hostileValues = ["1e300", "-1e300", "-1", "0", "1.5", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
                                "\"\"", "\"x\"", "null", "true", "[]", "{}", "[1,2]", "\"http://127.0.0.1:1/v1\"", "\"openai\"", "\"echo\"",
                                "[\"chat\"]", "[\"admin\"]", "\"\\u0000\"", "1e-17", "\"9999999999999h\"", "-0", "3"]
    static let queryValues = ["1", "-1", "0", "abc", "9223372036854775807", "-9223372036854775808", "99999999999999999999999", "1e300",
                              "9999999999999h", "5m", "30s", "1ms", "-5m", "2026-12-02T00:00:00Z", "+99999-01-01T00:00:00Z", "latency_ms",
                              "cost_usd", "%00", "%FF", "' OR 1=1 --", "", "RUNNING", "COMPLETED", String(repeating: "x", count: 2000)]

    /// A body: an object of known fields with hostile values, broken JSON, or junk.
    mutating func body() -> String {
        switch int(0..<10) {
        case 0: return String((0..<int(1..<80)).map { _ in pick(Array("{}[]\":,0123456789eE-+.aznul \\")) })
        case 1: return "[" + String(repeating: "[", count: int(100..<2000))
        case 2: return pick(["", "null", "[]", "\"str\"", "42", "{", "{\"id\":}"])
        default:
            let members = (0..<int(0..<7)).map { _ in "\"\(pick(Self.fields))\":\(pick(Self.hostileValues))" }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    /// A query string of known names with hostile values.
    mutating func query() -> String {
        let pairs = (0..<int(0..<5)).map { _ in
            "\(pick(Self.queryNames))=\(pick(Self.queryValues).addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "+", "="])) ?? "")"
        }
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }

    /// A path for `endpoint` with a generated id where it takes one.
    mutating func path(_ endpoint: AdminEndpoint) -> String {
        let id = pick(["echo", "nope", "key_0", "%2F..%2F", "a%00b", String(repeating: "i", count: 300), "meta/llama-3", "x%20y"])
        return "/admin/v1/" + endpoint.path.replacingOccurrences(of: ":id", with: id).replacingOccurrences(of: "**", with: id)
    }
}

@Suite("Fuzz: the admin API answers generated bodies and queries without a crash or a 5xx")
struct AdminFuzzTests {
    @Test("5 000 generated requests across every admin route")
    func fuzzAdminRoutes() async throws {
        let database = try TestPaths.makeTemporaryDirectory("admin-fuzz").appendingPathComponent("t.db").path
        let config = try writeConfig("""
        dispatch: {chain: [DirectDispatch]}
        store:
          plugin: SQLiteStore
          config: {path: \(database)}
        \(echoRegistryYAML)
        """)
        var environment = adminEnvironment
        environment["TOKENHUB_SECRET_KEY"] = SecretKeyring.generateKeyText()
        let server = try await RunningTokenhub.start(configPath: config, environment: environment)
        defer { server.stop() }
        var generator = AdminRequestGenerator(random: SplitMix64(state: 0x7013_2026_1202))
        var requests: [(AdminEndpoint, String, String?)] = []
        // A reload re-reads the file, and the event stream never ends by design: both are
        // covered by their own tests (ConfigReloadTests, EventStreamTests).
        let endpoints = AdminEndpoint.allCases.filter { $0 != .reloadConfig && $0 != .events }
        for index in 0..<5000 {
            let endpoint = endpoints[index % endpoints.count]
            let path = generator.path(endpoint) + generator.query()
            let body: String? = [.post, .put, .patch].contains(endpoint.method) ? generator.body() : nil
            requests.append((endpoint, path, body))
        }
        let client = HTTPTestClient.admin(server.baseURL)
        var failures: [String] = []
        var statuses: [Int: Int] = [:]
        for start in stride(from: 0, to: requests.count, by: 16) {
            let slice = requests[start..<min(start + 16, requests.count)]
            let answers = await withTaskGroup(of: (String, Int, String).self) { group in
                for (endpoint, path, body) in slice {
                    group.addTask {
                        do {
                            let answer = try await client.request(endpoint.method.rawValue, path, body: body)
                            return ("\(endpoint.method) \(path.prefix(120)) \(body?.prefix(120) ?? "")", answer.status,
                                    String(decoding: answer.body.prefix(300), as: UTF8.self))
                        } catch {
                            return ("\(endpoint.method) \(path.prefix(120))", 0, "\(error)")
                        }
                    }
                }
                var collected: [(String, Int, String)] = []
                for await answer in group { collected.append(answer) }
                return collected
            }
            for (request, status, text) in answers {
                statuses[status, default: 0] += 1
                // Workflow routes answer 503 without Temporal: that is the only 5xx allowed.
                let temporalDown = request.contains("/workflows") && status == 503
                if status == 0 || (status >= 500 && !temporalDown) { failures.append("\(request) → \(status) \(text)") }
            }
            #expect(server.process.isRunning, "tokenhub died: \(server.log.suffix(2000))")
            guard server.process.isRunning, failures.count < 10 else { break }
        }
        print("admin fuzz: \(requests.count) requests, statuses \(statuses.sorted { $0.key < $1.key })")
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
        let health = try await HTTPTestClient(baseURL: server.baseURL).get("/healthz")
        #expect(health.status == 200)
    }
}
