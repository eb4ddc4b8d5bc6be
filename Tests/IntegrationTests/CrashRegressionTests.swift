import Foundation
import Testing
import TestSupport
import TokenHubCore

/// Each input that once killed the whole process (a Swift trap on a number from outside),
/// replayed against a real `tokenhub serve`, plus the deadline rule for a long Retry-After.
@Suite("Inputs that once crashed the gateway", .serialized)
struct CrashRegressionTests {
    /// DirectDispatch, SQLiteStore, and two providers on `mock`.
    static func config(_ mock: MockUpstream) throws -> (database: String, config: String) {
        try StoreIntegrationTests.storeConfig(registry: """
        providers:
          - {id: mock, type: openai, base_url: "\(mock.openAIBaseURL)", api_key: sk-regression-secret}
          - {id: claude, type: anthropic, base_url: "\(mock.anthropicBaseURL)", api_key: sk-ant-regression-secret}
        models:
          - {id: gpt-mock, provider: mock, weight: 6}
          - {id: claude-mock, provider: claude, weight: 6}
        """)
    }

    func start() async throws -> (MockUpstream, RunningTokenhub, HTTPTestClient, String) {
        let mock = try await MockUpstream()
        let (database, config) = try Self.config(mock)
        let server = try await RunningTokenhub.start(configPath: config, environment: adminEnvironment)
        return (mock, server, HTTPTestClient.admin(server.baseURL), database)
    }

    /// Stops `server` and starts one on the same config and store that requires API keys;
    /// the returned client presents `key`.
    func restartRequiringKeys(_ server: RunningTokenhub, key: String) async throws -> (RunningTokenhub, HTTPTestClient) {
        let configText = try String(contentsOfFile: server.process.arguments![2], encoding: .utf8)
        await server.stopped()
        let strict = try await RunningTokenhub.start(configPath: try writeConfig("server: {require_api_key: true}\n" + configText), environment: adminEnvironment)
        return (strict, HTTPTestClient(baseURL: strict.baseURL, defaultHeaders: ["Authorization": "Bearer \(key)"]))
    }

    func chat(_ model: String, _ client: HTTPTestClient, latencyMs: Int = 20_000) async throws -> HTTPTestClient.Answer {
        try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}],"model_hint":"\#(model)"},"policy":{"max_latency_ms":\#(latencyMs)}}"#)
    }

    @Test("an upstream 200 whose usage counts are 1e300 (OpenAI and Anthropic) is served, with clamped counts")
    func hugeUsage() async throws {
        let (mock, server, client, _) = try await start()
        defer { server.stop() }
        mock.script("gpt-mock", [.status(200, body: #"{"choices":[{"message":{"role":"assistant","content":"big"}}],"usage":{"prompt_tokens":1e300,"completion_tokens":-1e300,"total_tokens":1e300}}"#)])
        mock.script("claude-mock", [.status(200, body: #"{"content":[{"type":"text","text":"big"}],"usage":{"input_tokens":1e300,"output_tokens":9223372036854775808}}"#)])
        let openai = try await chat("gpt-mock", client)
        #expect(openai.status == 200)
        let anthropic = try await chat("claude-mock", client)
        #expect(anthropic.status == 200)
        #expect(server.process.isRunning)
        #expect(try await chat("gpt-mock", client).status == 200, "still serving")
    }

    @Test("an upstream 429 with Retry-After: 1e300 fails over or answers; the process lives")
    func hugeRetryAfter() async throws {
        let (mock, server, client, _) = try await start()
        defer { server.stop() }
        mock.script("gpt-mock", [.status(429, body: "{}", headers: ["Retry-After": "1e300"])])
        // A budget long enough that a loaded machine still gets the 429 back: the
        // Retry-After, not the deadline, must be what ends the request.
        let answer = try await chat("gpt-mock", client, latencyMs: 15_000)
        #expect(answer.status == 502)
        #expect(answer.json?["error"]?["code"] == .string("rate_limited"), "\(String(decoding: answer.body, as: UTF8.self))\n\(server.log.suffix(3000))")
        #expect(server.process.isRunning)
    }

    @Test("an API key with rate_limit_rps 1e-17: its second request is a 429 with a day's Retry-After, also after a restart")
    func tinyKeyRate() async throws {
        let (mock, server, client, _) = try await start()
        defer { server.stop() }
        defer { withExtendedLifetime(mock) {} }
        let created = try await client.post("/admin/v1/apikeys", body: #"{"name":"slow","rate_limit_rps":1e-17}"#)
        #expect(created.status == 201)
        let key = try #require(created.json?["key"]?.stringValue)
        // The server above does not require keys; this one, on the same store, does.
        let (strict, keyedClient) = try await restartRequiringKeys(server, key: key)
        defer { strict.stop() }
        let first = try await keyedClient.post("/v1/chat/completions", body: #"{"model":"gpt-mock","messages":[{"role":"user","content":"x"}]}"#)
        #expect(first.status == 200)
        let second = try await keyedClient.post("/v1/chat/completions", body: #"{"model":"gpt-mock","messages":[{"role":"user","content":"x"}]}"#)
        #expect(second.status == 429)
        #expect(second.header("Retry-After") == "86400")
        #expect(strict.process.isRunning)
    }

    @Test("tsdb queries with step=9999999999999h and end=-9223372036854775808 are 400s naming the field")
    func tsdbOverflow() async throws {
        let (_, server, client, _) = try await start()
        defer { server.stop() }
        for (query, field) in [("step=9999999999999h", "step"), ("end=-9223372036854775808", "end"), ("start=-9223372036854775808", "start"),
                               ("end=9223372036854775807", "end"), ("step=-1", "step"), ("step=0", "step"),
                               ("start=10&end=5", "end"), ("end=+99999-01-01T00:00:00Z", "end")] {
            let answer = try await client.get("/admin/v1/tsdb/query?metric=latency_ms&\(query)")
            #expect(answer.status == 400, "\(query): \(answer.status)")
            #expect(answer.json?["error"]?["param"] == .string(field), "\(query): \(String(decoding: answer.body, as: UTF8.self))")
        }
        #expect(server.process.isRunning)
    }

    @Test("a 503 with Retry-After: 3600 and max_latency_ms 2000 answers by the deadline, logs one row, and calls the provider no more")
    func retryAfterPastDeadline() async throws {
        let (mock, server, client, database) = try await start()
        mock.script("gpt-mock", [.status(503, body: "{}", headers: ["Retry-After": "3600"])])
        let started = ContinuousClock.now
        let answer = try await chat("gpt-mock", client, latencyMs: 2000)
        let elapsed = ContinuousClock.now - started
        #expect(answer.status == 502)
        #expect(answer.json?["error"]?["code"] == .string("transient"))
        // The deadline plus slack for a loaded CI machine; the Retry-After asked for an hour.
        #expect(elapsed < .seconds(6), "answered after \(elapsed)")
        let requestID = try #require(answer.header("X-Request-ID"))
        let calls = mock.callCount("gpt-mock")
        try await Task.sleep(for: .seconds(3))
        #expect(mock.callCount("gpt-mock") == calls, "the provider was called after the client had its answer")
        #expect(await server.stopped() == 0)
        let rows = try await Subprocess.running("/usr/bin/env", ["sqlite3", database, "SELECT status, error_class FROM request_logs WHERE request_id = '\(requestID)'"])
        #expect(rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "error|transient")
    }

    @Test("the upstream's own error text never reaches the client; the log has it under the request id")
    func upstreamTextStaysInTheLog() async throws {
        let (mock, server, client, _) = try await start()
        defer { server.stop() }
        mock.script("gpt-mock", [.status(401, body: "invalid key sk-leaked-upstream-detail at internal-host-7")])
        let answer = try await chat("gpt-mock", client)
        #expect(answer.status == 502)
        let text = String(decoding: answer.body, as: UTF8.self)
        #expect(!text.contains("sk-leaked") && !text.contains("internal-host-7"), "\(text)")
        let requestID = try #require(answer.header("X-Request-ID"))
        #expect(text.contains(requestID))
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.log.contains("internal-host-7"), "the detail is in the log")
    }

    /// Sends `raw` on a fresh connection (python3's socket module: no HTTP library second-guesses
    /// the bytes) and returns the status line of the answer.
    static func rawStatusLine(port: Int, _ raw: String) async throws -> String {
        let script = """
        import socket,sys
        s=socket.create_connection(("127.0.0.1",\(port)),timeout=10)
        s.sendall(bytes.fromhex(sys.argv[1]))
        print(s.recv(65536).split(b"\\r\\n")[0].decode())
        """
        let hex = Array(raw.utf8).map { String(format: "%02x", $0) }.joined()
        return try await Subprocess.running("/usr/bin/env", ["python3", "-c", script, hex]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("Transfer-Encoding other than chunked is 501; Content-Encoding other than identity is 415; scoped keys may list models")
    func codingsAndScopes() async throws {
        let (mock, server, client, _) = try await start()
        defer { server.stop() }
        let body = #"{"model":"gpt-mock","messages":[{"role":"user","content":"x"}]}"#
        let chunk = String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"
        let gzipChunked = try await Self.rawStatusLine(port: server.port,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunk)
        #expect(gzipChunked.hasPrefix("HTTP/1.1 501"), "\(gzipChunked)")
        let plainChunked = try await Self.rawStatusLine(port: server.port,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk)
        #expect(plainChunked.hasPrefix("HTTP/1.1 200"), "\(plainChunked)")
        let compressed = try await client.post("/v1/chat/completions", body: body, headers: ["Content-Encoding": "gzip"])
        #expect(compressed.status == 415)
        #expect(compressed.json?["error"]?["param"] == .string("Content-Encoding"))

        // A key scoped to plan only still lists the models (GET /v1/models asks for no scope).
        let created = try await client.post("/admin/v1/apikeys", body: #"{"name":"planner","scopes":["plan"]}"#)
        let key = try #require(created.json?["key"]?.stringValue)
        let (strict, keyed) = try await restartRequiringKeys(server, key: key)
        defer { strict.stop() }
        #expect(try await keyed.get("/v1/models").status == 200)
        #expect(try await keyed.post("/v1/chat/completions", body: body).status == 403)
        withExtendedLifetime(mock) {}
    }

    @Test("a dispatcher that never completes its stop cannot hang a graceful stop: tokenhub exits at shutdown_timeout_ms")
    func boundedShutdown() async throws {
        let library = try await CPluginBuilder.build("misbehaving")
        let config = try writeConfig("""
        server: {shutdown_timeout_ms: 1000}
        dispatch:
          chain: [{plugin: \(library), config: {behavior: never_stop}}]
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        let answer = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
        #expect(answer.status == 200)
        let started = ContinuousClock.now
        server.process.terminate()
        for _ in 0..<200 where server.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let elapsed = ContinuousClock.now - started
        #expect(!server.process.isRunning, "still running \(elapsed) after SIGTERM")
        #expect(elapsed < .seconds(6), "stopped after \(elapsed)")
    }

    @Test("a connection that sends half a request head, or nothing, is closed after idle_timeout_ms; max_connections caps what is served")
    func idleTimeoutAndConnectionCap() async throws {
        let config = try writeConfig("server: {idle_timeout_ms: 500, max_connections: 3}\ndispatch: {chain: [DirectDispatch]}\n\(echoRegistryYAML)")
        let server = try await RunningTokenhub.start(configPath: config)
        defer { server.stop() }
        // Three idle connections and a half-sent head: each is closed by the server (recv
        // returns b"" well before the client's own 10 s timeout).
        let script = """
        import socket,time
        socks=[socket.create_connection(("127.0.0.1",\(server.port))) for _ in range(3)]
        socks[0].sendall(b"POST /v1/chat HTTP/1.1\\r\\nHost: x\\r\\nContent-")
        start=time.time()
        for s in socks:
            s.settimeout(10)
            assert s.recv(1024)==b"", "server answered instead of closing"
        print(round(time.time()-start,2))
        """
        let closed = try await Subprocess.running("/usr/bin/env", ["python3", "-c", script])
        #expect(closed.status == 0, "\(closed.stderr)")
        let seconds = Double(closed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 99
        #expect(seconds < 5, "idle connections closed after \(seconds) s")
        // A body trickled in a byte at a time (each byte resets the idle timer) is cut off by
        // body_timeout_ms with a 408.
        let trickleConfig = try writeConfig("server: {idle_timeout_ms: 5000, body_timeout_ms: 1000}\ndispatch: {chain: [DirectDispatch]}\n\(echoRegistryYAML)")
        let trickled = try await RunningTokenhub.start(configPath: trickleConfig)
        defer { trickled.stop() }
        let trickle = """
        import socket,time
        s=socket.create_connection(("127.0.0.1",\(trickled.port))); s.settimeout(0.01)
        s.sendall(b"POST /v1/chat HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 400\\r\\n\\r\\n")
        start=time.time(); answer=b""
        for i in range(40):
            try:
                s.sendall(b" ")
            except OSError:
                break
            try:
                answer=s.recv(200)
                if answer: break
            except socket.timeout:
                pass
            time.sleep(0.25)
        print(answer.split(b"\\r\\n")[0].decode(), round(time.time()-start,1))
        """
        let slow = try await Subprocess.running("/usr/bin/env", ["python3", "-c", trickle])
        #expect(slow.stdout.hasPrefix("HTTP/1.1 408"), "\(slow.stdout) \(slow.stderr)")

        // With 3 connections held open (on a server whose idle timeout will not close them
        // meanwhile), a 4th waits in the backlog: it is served only after one closes.
        let capConfig = try writeConfig("server: {idle_timeout_ms: 30000, max_connections: 3}\ndispatch: {chain: [DirectDispatch]}\n\(echoRegistryYAML)")
        let capped = try await RunningTokenhub.start(configPath: capConfig)
        defer { capped.stop() }
        let script2 = """
        import socket,time
        held=[socket.create_connection(("127.0.0.1",\(capped.port))) for _ in range(3)]
        for h in held:
            h.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"); h.settimeout(10); h.recv(4096)
        c=socket.create_connection(("127.0.0.1",\(capped.port))); c.settimeout(1.0)
        c.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        try:
            c.recv(64); print("served-early")
        except socket.timeout:
            for h in held: h.close()
            c.settimeout(10); print("served-after" if c.recv(64).startswith(b"HTTP/1.1 200") else "not-served")
        """
        let cap = try await Subprocess.running("/usr/bin/env", ["python3", "-c", script2])
        #expect(cap.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "served-after", "\(cap.stdout) \(cap.stderr)")
    }

    /// The resident memory of a process, in bytes.
    static func residentBytes(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    @Test("a client that reads a stream slower than the upstream writes it holds the upstream back: the gateway buffers nothing")
    func streamBackpressure() async throws {
        let (mock, server, _, _) = try await start()
        defer { server.stop() }
        let piece = String(repeating: "z", count: 32 << 10)
        mock.script("gpt-mock", [.stream(Array(repeating: piece, count: 3000))])  // ~100 MB of events
        let before = Self.residentBytes(server.process.processIdentifier)
        let script = """
        import socket,time
        s=socket.create_connection(("127.0.0.1",\(server.port)))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        body=b'{"model":"gpt-mock","stream":true,"messages":[{"role":"user","content":"@@tokenhub max_latency_ms=60000\\\\nx"}]}'
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
        s.recv(4096)
        print("reading-paused", flush=True)
        time.sleep(4)
        s.close()
        """
        let client = try BackgroundProcess(python: script)
        _ = client.readOutput()  // "reading-paused"
        try await Task.sleep(for: .seconds(3))
        let during = Self.residentBytes(server.process.processIdentifier)
        client.stop(grace: .seconds(5))
        #expect(during - before < 48 << 20, "the gateway grew by \((during - before) >> 20) MB while the client did not read")
        #expect(server.process.isRunning)
        withExtendedLifetime(mock) {}
    }

    @Test("budgets fail closed: when the store cannot tell a key's spend the request is refused (503), and the store's words stay in the log")
    func budgetFailsClosed() async throws {
        let library = try await CPluginBuilder.build("failing_store")
        let config = try writeConfig("""
        server: {require_api_key: true}
        dispatch: {chain: [DirectDispatch]}
        store: {plugin: \(library)}
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        defer { server.stop() }
        let client = HTTPTestClient(baseURL: server.baseURL, defaultHeaders: ["Authorization": "Bearer tokenhub_any"])
        let answer = try await client.post("/v1/chat/completions", body: #"{"model":"echo-1","messages":[{"role":"user","content":"x"}]}"#)
        #expect(answer.status == 503)
        #expect(answer.json?["error"]?["code"] == .string("store_unavailable"))
        let text = String(decoding: answer.body, as: UTF8.self)
        #expect(!text.contains("disk on fire") && !text.contains("secret-path"), "\(text)")
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.log.contains("disk on fire"))
    }
}
