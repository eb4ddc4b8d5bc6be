import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TestSupport
import TokenHubCore

/// Several `tokenhub serve` instances sharing one PostgreSQL database, and the gateway riding
/// out a database outage.
@Suite("Several instances, one PostgreSQL store", .serialized)
struct SharedStoreTests {
    static let adminToken = "admin-secret-token-for-tests"
    let admin = [("Authorization", "Bearer \(Self.adminToken)")]
    let chat = #"{"request":{"messages":[{"role":"user","content":"shared state"}]}}"#

    func config(_ url: String, storeOptions: String = "") throws -> String {
        try writeConfig("""
        server:
          require_api_key: true
          admin_token: \(Self.adminToken)
        dispatch:
          chain: [DirectDispatch]
        store:
          plugin: PostgresStore
          config: {url: "\(url)", tls: disable, timeout_ms: 2000\(storeOptions)}
        providers:
          - {id: echo, type: echo}
        models:
          - {id: echo-1, provider: echo, input_price_per_1k: 1.0, output_price_per_1k: 0}
        routing:
          max_budget_usd: 100
        """)
    }

    func createKey(on server: RunningTokenhub, _ body: String) async throws -> (id: String, key: String) {
        let created = try await send(server, .POST, "/admin/v1/apikeys", body: body, headers: admin)
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        return (try #require(created.json?["id"]?.stringValue), try #require(created.json?["key"]?.stringValue))
    }

    /// Polls `condition` every 20 ms; returns how long it took to hold, nil after `limit`.
    func within(_ limit: Duration, _ condition: () async throws -> Bool) async throws -> Duration? {
        let clock = ContinuousClock(), start = clock.now
        while clock.now - start < limit {
            if try await condition() { return clock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @Test("a key made on A works on B; revoked on A it is refused by B at once; a model added on A routes on B")
    func keysAndRegistryAcrossInstances() async throws {
        let url = try await PostgresServer.shared().createDatabase("shared")
        let path = try config(url)
        async let startA = RunningTokenhub.start(configPath: path)
        async let startB = RunningTokenhub.start(configPath: path)
        let (a, b) = try await (startA, startB)  // both migrate the same empty database at once
        let (id, key) = try await createKey(on: a, #"{"name":"shared"}"#)
        let auth = [("Authorization", "Bearer \(key)")]
        #expect(try await send(b, .POST, "/v1/chat", body: chat, headers: auth).status == 200)

        // Disabled, rotated and deleted on A: B refuses the old key on its next request.
        #expect(try await send(a, .PATCH, "/admin/v1/apikeys/\(id)", body: #"{"enabled":false}"#, headers: admin).status == 200)
        #expect(try await send(b, .POST, "/v1/chat", body: chat, headers: auth).status == 401, "B accepted a key disabled on A")
        #expect(try await send(a, .PATCH, "/admin/v1/apikeys/\(id)", body: #"{"enabled":true}"#, headers: admin).status == 200)
        let rotated = try await send(a, .POST, "/admin/v1/apikeys/\(id)/rotate", headers: admin)
        let newKey = try #require(rotated.json?["key"]?.stringValue)
        #expect(try await send(b, .POST, "/v1/chat", body: chat, headers: auth).status == 401, "B accepted the key rotated away on A")
        #expect(try await send(b, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(newKey)")]).status == 200)
        #expect(try await send(a, .DELETE, "/admin/v1/apikeys/\(id)", headers: admin).status == 204)
        #expect(try await send(b, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(newKey)")]).status == 401,
                "B accepted a key deleted on A")

        #expect(try await send(a, .POST, "/admin/v1/models", body: #"{"id":"echo-2","provider":"echo"}"#, headers: admin).status == 201)
        let (_, other) = try await createKey(on: a, #"{"name":"other"}"#)
        // The bound the README states (one poll of 250 ms plus a reload) is measured by
        // bench/store.sh; here the change must arrive, and its lag is printed.
        let seen = try await within(.seconds(10)) {
            let models = try await send(b, .GET, "/v1/models", headers: [("Authorization", "Bearer \(other)")])
            return models.json?["data"]?.arrayValue?.contains { $0["id"]?.stringValue == "echo-2" } == true
        }
        let lag = try #require(seen, "B never saw the model added on A: \(b.log.suffix(3000))")
        FileHandle.standardError.write(Data("shared store: a model added on A routed on B after \(lag)\n".utf8))
        #expect(await a.stopped() == 0)
        #expect(await b.stopped() == 0)
    }

    @Test("20 concurrent requests across A and B on a key whose budget covers 5: spend ends within one request's cost of the budget")
    func budgetAcrossInstances() async throws {
        let url = try await PostgresServer.shared().createDatabase("budget")
        let path = try config(url)
        let a = try await RunningTokenhub.start(configPath: path)
        let b = try await RunningTokenhub.start(configPath: path)
        // One request's cost, measured with a key without a budget. Output is free on this
        // model, so a hold (input tokens plus the router's default output estimate) equals
        // what the request then costs: every admission commits exactly one request's cost,
        // and the count served no longer depends on how the 20 requests interleave.
        let (_, free) = try await createKey(on: a, #"{"name":"free"}"#)
        let probe = try await send(a, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(free)")])
        let cost = try #require(probe.json?["estimated_cost_usd"]?.numberValue)
        #expect(cost > 0)
        let budget = cost * 5.5
        let (id, key) = try await createKey(on: a, #"{"name":"tight","monthly_budget_usd":\#(budget)}"#)
        let auth = [("Authorization", "Bearer \(key)")]
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                let server = index % 2 == 0 ? a : b
                group.addTask { try await send(server, .POST, "/v1/chat", body: chat, headers: auth).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(Set(statuses).isSubset(of: [200, 429]), "\(statuses)")
        let served = statuses.filter { $0 == 200 }.count
        #expect(served >= 5 && served <= 6, "a budget of 5.5 requests served \(served)")
        // Every served request's row is written; the spend they add up to stays within one
        // request's cost of the budget.
        let database = String(url.split(separator: "/").last!)
        let server = try await PostgresServer.shared()
        var spend = 0.0
        _ = try await within(.seconds(5)) {
            let rows = try await server.psql(database, "SELECT COUNT(*), COALESCE(SUM(estimated_cost_usd), 0) FROM request_logs WHERE api_key_id = '\(id)'")
            let fields = rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|")
            spend = Double(fields.last ?? "") ?? 0
            return Int(fields.first ?? "") == served
        }
        #expect(spend <= budget + cost * 1.0001, "spend \(spend) on a budget of \(budget) (one request costs \(cost))")
        await a.stopped()
        await b.stopped()
    }

    @Test("PostgreSQL stopped for 10 s under load: no chat with a known key fails, and the rows arrive after it returns")
    func outage() async throws {
        let postgres = try await offThread { try PostgresServer() }
        defer { postgres.stop(mode: "immediate") }
        let url = try await postgres.createDatabase("outage")
        let server = try await RunningTokenhub.start(configPath: try config(url))
        let (id, key) = try await createKey(on: server, #"{"name":"steady"}"#)
        let auth = [("Authorization", "Bearer \(key)")]
        #expect(try await send(server, .POST, "/v1/chat", body: chat, headers: auth).status == 200)

        let clock = ContinuousClock()
        let load = Task {
            // Each answered chat with the time it was answered.
            var answered: [ContinuousClock.Instant] = [], failed: [Int] = []
            let start = clock.now
            while clock.now - start < .seconds(14) {
                let status = (try? await send(server, .POST, "/v1/chat", body: chat, headers: auth).status) ?? -1
                if status == 200 { answered.append(clock.now) } else { failed.append(status) }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return (answered, failed)
        }
        try await Task.sleep(for: .seconds(2))
        try await offThread { postgres.stop(mode: "immediate") }
        let down = clock.now
        try await Task.sleep(for: .seconds(10))
        let up = clock.now
        try await offThread { try postgres.start() }
        let (answeredAt, failed) = await load.value
        let answered = answeredAt.count
        #expect(failed.isEmpty, "\(failed.count) chats failed during the outage: \(Set(failed))")
        // Chats kept being answered while the database was down (how many depends on the
        // machine's speed; none would mean the outage stalled them).
        let duringOutage = answeredAt.filter { $0 > down + .seconds(1) && $0 < up }.count
        #expect(duringOutage >= 3, "\(duringOutage) chats answered while PostgreSQL was down (\(answered) in all)")
        let database = String(url.split(separator: "/").last!)
        let arrived = try await within(.seconds(20)) {
            let rows = try await postgres.psql(database, "SELECT COUNT(*) FROM request_logs WHERE api_key_id = '\(id)'")
            return Int(rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == answered + 1
        }
        #expect(arrived != nil, "the rows buffered during the outage were not all written after it")
        #expect(server.log.contains("store unavailable: keeping request log rows"), "the outage is logged")
        await server.stopped()
    }

    @Test("PostgreSQL unreachable at start: exit 1 naming host and port; with required: false, serve and connect once it is up")
    func unreachableAtStart() async throws {
        let postgres = try await offThread { try PostgresServer() }
        defer { postgres.stop(mode: "immediate") }
        let url = try await postgres.createDatabase("late")
        try await offThread { postgres.stop() }

        let refused = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", try config(url)])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("127.0.0.1:\(postgres.port)"), "\(refused.stderr)")

        let lenient = try config(url, storeOptions: ", required: false")
        let server = try await RunningTokenhub.start(configPath: lenient)
        let early = try await send(server, .POST, "/admin/v1/apikeys", body: #"{"name":"late"}"#, headers: admin)
        #expect(early.status == 503, "\(String(decoding: early.body, as: UTF8.self))")
        try await offThread { try postgres.start() }
        var created: HTTPTestClient.Answer?
        _ = try await within(.seconds(30)) {
            let answer = try await send(server, .POST, "/admin/v1/apikeys", body: #"{"name":"late"}"#, headers: admin)
            if answer.status == 201 { created = answer }
            return answer.status == 201
        }
        let key = try #require(created?.json?["key"]?.stringValue, "never connected: \(server.log.suffix(2000))")
        #expect(try await send(server, .POST, "/v1/chat", body: chat, headers: [("Authorization", "Bearer \(key)")]).status == 200)
        #expect(server.log.contains("after waiting for the server"))
        await server.stopped()
    }

    @Test("rate limits are per instance, as the README says: a key limited to 1 request/s gets one on A and one on B in the same second")
    func rateLimitsPerInstance() async throws {
        let url = try await PostgresServer.shared().createDatabase("rates")
        let path = try config(url)
        let a = try await RunningTokenhub.start(configPath: path)
        let b = try await RunningTokenhub.start(configPath: path)
        let (_, key) = try await createKey(on: a, #"{"name":"slow","rate_limit_rps":0.1}"#)
        let auth = [("Authorization", "Bearer \(key)")]
        #expect(try await send(a, .POST, "/v1/chat", body: chat, headers: auth).status == 200)
        #expect(try await send(a, .POST, "/v1/chat", body: chat, headers: auth).status == 429, "A's bucket is empty")
        #expect(try await send(b, .POST, "/v1/chat", body: chat, headers: auth).status == 200, "B's bucket is its own")
        await a.stopped()
        await b.stopped()
    }
}
