import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TestSupport
import TokenHubCore

/// Generates request bodies that are invalid for every client endpoint.
struct BadRequestGenerator {
    var random: SplitMix64
    let bodyLimit: Int

    static let validBodies: [String: String] = [
        "/v1/chat": #"{"request":{"messages":[{"role":"user","content":"hi"}],"model_hint":"","estimated_input_tokens":10,"parameters":{},"stream":false},"policy":{"mode":"normal","max_budget_usd":0.05,"max_latency_ms":20000,"min_weight":0}}"#,
        "/v1/chat/completions": #"{"model":"echo-1","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"max_tokens":10,"stream":false}"#,
        "/v1/plan": #"{"request":{"messages":[{"role":"user","content":"hi"}]},"orchestration":{"mode":"vote","iterations":2,"primary_min_weight":0}}"#,
    ]

    /// Fields of each endpoint with values of the wrong type or out of range.
    static let badFields: [String: [(path: [String], values: [String])]] = [
        "/v1/chat": [
            (["request", "messages"], ["null", "{}", "[]", "\"hi\"", "[1]", "[{\"role\":5}]", "[{\"role\":\"user\",\"content\":7}]", "[{\"role\":\"god\",\"content\":\"x\"}]"]),
            (["request", "model_hint"], ["1", "[]", "{}", "true"]),
            (["request", "estimated_input_tokens"], ["-1", "1.5", "1e300", "\"ten\"", "[]"]),
            (["request", "parameters"], ["[]", "\"x\"", "3"]),
            (["request", "stream"], ["\"yes\"", "1", "{}"]),
            (["request", "output_schema"], ["\"schema\"", "[]", "7"]),
            (["policy", "mode"], ["\"fastest\"", "1", "[]", "\"\""]),
            (["policy", "max_budget_usd"], ["-1", "1e308", "\"cheap\"", "[]", "-0.0001"]),
            (["policy", "max_latency_ms"], ["0", "-5", "1e20", "2.5", "\"soon\""]),
            (["policy", "min_weight"], ["-1", "11", "3.5", "1e9", "null, \"x\": 1"]),
            (["request"], ["[]", "\"r\"", "null", "5"]),
            (["policy"], ["[]", "\"p\"", "5"]),
        ],
        "/v1/chat/completions": [
            (["messages"], ["null", "{}", "[]", "\"hi\"", "[[]]", "[{\"content\":\"no role\"}]"]),
            (["model"], ["1", "[]", "{}"]),
            (["temperature"], ["-1", "3", "\"warm\"", "[]", "1e308"]),
            (["max_tokens"], ["0", "-3", "2.5", "1e30", "\"many\""]),
            (["stream"], ["\"true\"", "2"]),
            (["n"], ["0", "1000", "\"two\""]),
            (["tools"], ["{}", "[1]", "\"tool\""]),
        ],
        "/v1/plan": [
            (["orchestration", "mode"], ["\"chaos\"", "1", "null", "[]"]),
            (["orchestration", "iterations"], ["-1", "11", "1e9", "1.5", "\"3\""]),
            (["orchestration", "primary_min_weight"], ["-2", "12", "\"w\""]),
            (["orchestration"], ["[]", "null", "\"x\"", "{}"]),
            (["request", "messages"], ["[]", "null", "1"]),
        ],
    ]

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }

    /// One bad body for `endpoint`, and the kind of badness (for failure messages).
    mutating func next(for endpoint: String) -> (kind: String, body: [UInt8]) {
        let valid = Self.validBodies[endpoint]!
        switch int(0..<100) {
        case 0..<20:
            return ("wrong field", Array(replacingField(in: valid, endpoint: endpoint).utf8))
        case 20..<35:
            return ("truncated", Array(valid.utf8.prefix(int(1..<valid.utf8.count))))
        case 35..<50:
            var bytes = Array(valid.utf8)
            let at = bytes.firstIndex(of: UInt8(ascii: "h")) ?? 10
            bytes.insert(contentsOf: pick([[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC0, 0xAF]]), at: at)
            return ("invalid UTF-8", bytes)
        case 50..<65:
            return ("random shape", Array(randomJSON(depth: 0, topLevel: true).utf8))
        case 65..<75:
            return ("unknown fields", Array("{\"\(randomWord())\":\(randomJSON(depth: 1, topLevel: false))}".utf8))
        case 75..<85:
            return ("garbage", (0..<int(1..<200)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        case 85..<92:
            let depth = int(600..<3000)
            return ("deep nesting", Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8))
        case 92..<99:
            return ("absurd numbers", Array(valid.replacingOccurrences(of: "0.05", with: pick(["1e400", "-1e400", "NaN", "1" + String(repeating: "0", count: 400)]))
                .replacingOccurrences(of: "0.5", with: "1e999").replacingOccurrences(of: "\"iterations\":2", with: "\"iterations\":99999999999999999999").utf8))
        default:
            return ("oversized", Array((String(repeating: " ", count: bodyLimit + int(1..<1000)) + valid).utf8))
        }
    }

    private mutating func replacingField(in valid: String, endpoint: String) -> String {
        let field = pick(Self.badFields[endpoint]!)
        let value = pick(field.values)
        guard var object = try? JSONDecoder().decode(JSONValue.self, from: Data(valid.utf8)) else { return valid }
        let marker = "\"__BAD__\""
        object = Self.setting(object, path: field.path, to: .string("__BAD__"))
        let text = String(decoding: try! JSONCoding.encode(object), as: UTF8.self)
        return text.replacingOccurrences(of: marker, with: value)
    }

    static func setting(_ value: JSONValue, path: [String], to newValue: JSONValue) -> JSONValue {
        guard let key = path.first else { return newValue }
        var members = value.objectValue ?? [:]
        members[key] = setting(members[key] ?? .object([:]), path: Array(path.dropFirst()), to: newValue)
        return .object(members)
    }

    private mutating func randomWord() -> String {
        String((0..<int(1..<12)).map { _ in pick(Array("abcdefghijklmnopqrstuvwxyz_é€😀\\\"")) }).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    private mutating func randomJSON(depth: Int, topLevel: Bool) -> String {
        let choice = int(0..<(depth > 3 ? 4 : 6))
        switch choice {
        case 0: return pick(["0", "-1", "1e308", "3.14", "-0", "12345678901234567890"])
        case 1: return "\"\(randomWord())\""
        case 2: return pick(["true", "false"])
        case 3: return "null"
        case 4: return "[" + (0..<int(0..<4)).map { _ in randomJSON(depth: depth + 1, topLevel: false) }.joined(separator: ",") + "]"
        default:
            // Top-level objects get only unknown keys, so they are never valid requests.
            return "{" + (0..<int(0..<4)).map { _ in "\"x_\(randomWord())\":\(randomJSON(depth: depth + 1, topLevel: false))" }.joined(separator: ",") + "}"
        }
    }
}

@Suite("Fuzz: bad requests get 4xx and the server stays up")
struct FuzzTests {
    @Test("10 000 generated bad requests across every client endpoint")
    func fuzzClientEndpoints() async throws {
        let bodyLimit = 65536
        let config = try writeConfig("""
        server:
          body_limit_bytes: \(bodyLimit)
        dispatch:
          chain: [DirectDispatch]
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        let endpoints = ["/v1/chat", "/v1/chat/completions", "/v1/plan"]
        let total = 10_000
        let workers = 8
        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var generator = BadRequestGenerator(random: SplitMix64(state: UInt64(worker) &* 7919 &+ 1), bodyLimit: bodyLimit)
                    var failures: [String] = []
                    for index in 0..<(total / workers) {
                        let endpoint = endpoints[index % endpoints.count]
                        let (kind, body) = generator.next(for: endpoint)
                        var request = HTTPClientRequest(url: server.baseURL + endpoint)
                        request.method = .POST
                        request.body = .bytes(ByteBuffer(bytes: body))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                        let answer = try await response.body.collect(upTo: 1 << 20)
                        let status = Int(response.status.code)
                        if !(400..<500).contains(status) {
                            failures.append("\(endpoint) \(kind) → \(status): \(String(decoding: body.prefix(200), as: UTF8.self)) → \(String(buffer: answer).prefix(200))")
                        } else if (try? JSONDecoder().decode(JSONValue.self, from: Data(answer.readableBytesView)))?["error"]?["message"] == nil {
                            failures.append("\(endpoint) \(kind) → \(status) without a JSON error message")
                        }
                    }
                    return failures
                }
            }
            var all: [String] = []
            for try await part in group { all += part }
            return all
        }
        #expect(failures.isEmpty, "\(failures.count) answers were not 4xx with a JSON error; first: \(failures.prefix(5))")
        #expect(server.process.isRunning, "the server is still up")
        let good = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"still alive?"}]}}"#)
        #expect(good.status == 200)
        #expect(await server.stopped() == 0)
    }
}
