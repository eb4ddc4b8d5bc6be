import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TestSupport
import TokenHubCore

/// `Tests/Fixtures/hostile_upstream.py` as a process: a provider that answers with generated
/// bad bodies, headers, statuses and streams (see the script).
final class HostileUpstream: @unchecked Sendable {
    let server: BackgroundProcess
    let port: Int

    init(seed: Int) throws {
        server = try BackgroundProcess("/usr/bin/env", [
            "python3", TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/hostile_upstream.py").path, "--seed", String(seed),
        ])
        let line = server.readOutput()
        guard let port = Int(line.split(separator: " ").last ?? "") else {
            server.stop()
            throw SubprocessError(message: "hostile upstream did not report its port: \(line)")
        }
        self.port = port
    }

    /// What it has sent: the total and the count of each kind of answer.
    func stats() async throws -> (answers: Int, kinds: [String: Int]) {
        let answer = try await HTTPTestClient(baseURL: "http://127.0.0.1:\(port)").get("/stats")
        let kinds = (answer.json?["kinds"]?.objectValue ?? [:]).mapValues { Int($0.numberValue ?? 0) }
        return (Int(answer.json?["answers"]?.numberValue ?? 0), kinds)
    }
}

@Suite("A hostile upstream cannot crash or hang the gateway", .serialized)
struct HostileUpstreamTests {
    /// Providers of both adapters, several of each, all on the hostile server: a provider
    /// the health tracker takes down for its cooldown leaves others to carry the traffic.
    static func config(port: Int, providers: Int) -> String {
        var yaml = "server: {listen: 127.0.0.1:0}\ndispatch: {chain: [DirectDispatch]}\nproviders:\n  - {id: echo, type: echo}\n"
        var models = "models:\n  - {id: echo-1, provider: echo, weight: 1}\n"
        for index in 0..<providers {
            let anthropic = index % 2 == 1
            let base = anthropic ? "http://127.0.0.1:\(port)" : "http://127.0.0.1:\(port)/v1"
            yaml += "  - {id: h\(index), type: \(anthropic ? "anthropic" : "openai"), base_url: \"\(base)\", api_key: k, timeout_ms: 4000}\n"
            models += "  - {id: m\(index), provider: h\(index), weight: 5, input_price_per_1k: 0.001, output_price_per_1k: 0.002}\n"
        }
        return yaml + models
    }

    /// One client request: a chat (plain or streamed, pinned to a model or routed) with a
    /// 1.5 s deadline. Returns nil when the answer was complete, else what was wrong.
    static func exchange(_ client: HTTPClient, port: Int, index: Int, models: Int) async -> String? {
        let model = index % 7 == 0 ? "" : "m\(index % models)"
        let stream = index % 2 == 0
        var request: HTTPClientRequest
        let body: String
        if index % 3 == 0 {
            request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat")
            body = #"{"request":{"messages":[{"role":"user","content":"hi \#(index)"}],"model_hint":"\#(model)","stream":\#(stream)},"policy":{"max_latency_ms":1500,"max_budget_usd":1}}"#
        } else {
            request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            body = #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"@@tokenhub max_latency_ms=1500 budget=1\nhi \#(index)"}]}"#
        }
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(15))
            let collected = try await response.body.collect(upTo: 64 << 20)
            let elapsed = ContinuousClock.now - started
            let text = String(buffer: collected)
            // The deadline is 1.5 s; the slack covers a debug build on two shared cores.
            if elapsed > .seconds(6) {
                return "request \(index) (\(model), stream \(stream)) took \(elapsed): \(response.status.code) \(response.headers.first(name: "x-request-id") ?? "")"
            }
            if response.status == .ok && response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true {
                guard text.hasSuffix("data: [DONE]\n\n") || text.contains(#""type":"upstream_error""#) else {
                    return "stream \(index) ended without [DONE] or an error event: \(text.suffix(200))"
                }
                return nil
            }
            guard let json = try? JSONValue.parse(text), json.objectValue != nil else {
                return "request \(index): \(response.status.code) with a body that is not a JSON object: \(text.prefix(200))"
            }
            if response.status.code >= 500 && response.status.code != 502 && response.status.code != 503 && response.status.code != 504 {
                return "request \(index): unexpected \(response.status.code): \(text.prefix(300))"
            }
            return nil
        } catch {
            return "request \(index) got no answer: \(error)"
        }
    }

    @Test("10 000 hostile answers, plain and streamed: every request answered within its deadline, the gateway still serves")
    func hostileAnswers() async throws {
        let hostile = try HostileUpstream(seed: 20261202)
        let providers = 12
        let config = try writeConfig(Self.config(port: hostile.port, providers: providers))
        let server = try await RunningTokenhub.start(configPath: config)
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

        let target = 10_000
        let concurrency = 48
        let started = ContinuousClock.now
        var failures: [String] = []
        var sent = 0
        var answers = 0
        while answers < target, ContinuousClock.now - started < .seconds(600) {
            let batch = sent
            // `concurrency` workers, each sending 8 requests one after another.
            failures += await withTaskGroup(of: [String].self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var found: [String] = []
                        for step in 0..<8 {
                            let index = batch + step * concurrency + worker
                            if let failure = await Self.exchange(client, port: server.port, index: index, models: providers) { found.append(failure) }
                        }
                        return found
                    }
                }
                var found: [String] = []
                for await failures in group { found += failures }
                return found
            }
            sent += concurrency * 8
            #expect(server.process.isRunning, "tokenhub died: \(server.log.suffix(2000))")
            guard server.process.isRunning, failures.count < 20 else { break }
            answers = try await hostile.stats().answers
            FileHandle.standardError.write(Data("hostile upstream: \(answers) answers after \(sent) requests, \(failures.count) failures\n".utf8))
        }
        let stats = try await hostile.stats()
        let elapsed = ContinuousClock.now - started
        FileHandle.standardError.write(Data(("hostile upstream: \(stats.answers) answers to \(sent) client requests in \(elapsed); kinds: "
            + stats.kinds.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n").utf8))
        #expect(failures.isEmpty, "\(failures.count) bad exchanges, first: \(failures.prefix(5))")
        #expect(stats.answers >= target, "only \(stats.answers) upstream answers")
        #expect(stats.kinds.count >= 20, "answer kinds seen: \(stats.kinds.keys.sorted())")
        #expect(server.process.isRunning)

        // Afterwards it serves normally.
        let healthy = try await HTTPTestClient(baseURL: server.baseURL).get("/healthz")
        #expect(healthy.status == 200)
        #expect(!String(decoding: healthy.body, as: UTF8.self).contains(".so"), "/healthz shows plugin file paths")
        let echo = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat/completions",
            body: #"{"model":"echo-1","messages":[{"role":"user","content":"still here"}]}"#)
        #expect(echo.status == 200)
        #expect(echo.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue?.contains("still here") == true)
        // The upstream's words never reach a client (only the log).
        #expect(!server.log.contains("Fatal error"), "\(server.log.suffix(2000))")
        try await client.shutdown()
        hostile.server.stop()
    }
}
