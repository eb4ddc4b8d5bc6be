import Foundation
import Testing
import TestSupport
import TokenHubCore

// Temporal turned on and off by reload, and the reload soak (the `Temporal dispatch` suite).

extension TemporalIntegrationTests {
    @Test("Temporal on and off by reload while requests flow: workflows while on, direct after, no request fails, one log row per answer")
    func temporalByReload() async throws {
        let temporal = try TemporalDevServer()
        let database = try Self.database()
        let base = """
        dispatch: {chain: [DirectDispatch]}
        store: {plugin: SQLiteStore, config: {path: \(database)}}
        providers: [{id: echo, type: echo}]
        models: [{id: echo-1, provider: echo}]
        """
        let on = base + "\ntemporal: {enabled: true, host: \(temporal.address), namespace: \(temporal.namespace), task_queue: tokenhub-reload}\n"
        let path = try writeConfig(base)
        let server = try await RunningTokenhub.start(configPath: path, environment: adminEnvironment)
        let client = HTTPTestClient.admin(server.baseURL)
        let load = ChatLoad(client, clients: 4)
        func servedBy(_ dispatcher: String) -> Int { load.served[dispatcher] ?? 0 }

        try on.write(toFile: path, atomically: true, encoding: .utf8)
        let enabled = try await client.post("/admin/v1/reload", body: "")
        #expect(enabled.status == 200, "\(String(decoding: enabled.body, as: UTF8.self))")
        #expect(enabled.json?["changed"]?.arrayValue?.contains(.string("temporal")) == true)
        // TemporalDispatch answers unavailable (DirectDispatch serves) until its worker is connected.
        let before = servedBy("temporal")
        for _ in 0..<300 where servedBy("temporal") < before + 5 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(servedBy("temporal") >= before + 5, "\(load.served)")
        let listed = try await client.get("/admin/v1/workflows")
        #expect(listed.status == 200 && listed.json?["temporal_enabled"] == .bool(true), "the admin API follows Temporal on: \(String(decoding: listed.body, as: UTF8.self))")

        try base.write(toFile: path, atomically: true, encoding: .utf8)
        let disabled = try await client.post("/admin/v1/reload", body: "")
        #expect(disabled.status == 200, "\(String(decoding: disabled.body, as: UTF8.self))")
        let whileOff = servedBy("direct")
        try await Task.sleep(for: .seconds(1))
        #expect(servedBy("direct") > whileOff)
        let temporalAfterOff = servedBy("temporal")
        try await Task.sleep(for: .seconds(1))
        #expect(servedBy("temporal") == temporalAfterOff, "no workflow once Temporal is off")
        await load.stop()
        #expect(try await client.get("/admin/v1/workflows").json?["temporal_enabled"] == .bool(false), "the admin API follows Temporal off")
        #expect(load.failures.isEmpty, "\(load.failures.prefix(5))")
        #expect(await server.stopped() == 0)
        let answered = load.answered
        #expect(try await sqlite(database, "SELECT COUNT(*) FROM request_logs") == "\(answered)", "one row per answered request")
    }
}

extension TemporalIntegrationTests {
    @Test("the issue's reload soak: 100 clients for ~20 s while 20 reloads alternate routing, models, the chain (a C plugin in and out), Temporal on and off, telemetry, the admin token and the store file: no request fails, and the rows across both store files equal the answers")
    func reloadSoak() async throws {
        let temporal = try TemporalDevServer()
        let relay = try await CPluginBuilder.build("relay_dispatch")
        let directory = try TestPaths.makeTemporaryDirectory("soak")
        let stores = ["a.db", "b.db"].map { directory.appendingPathComponent($0).path }
        let token = "soak-admin-token-0123456789"
        func generation(_ index: Int) -> String {
            let odd = index % 2 == 1
            return """
            server: {admin_token: \(token)\(index % 4 < 2 ? "" : "-b")}
            dispatch: {chain: \(odd ? "[{plugin: \(relay), name: relay}, DirectDispatch]" : "[DirectDispatch]")}
            store: {plugin: SQLiteStore, config: {path: \(stores[index % 4 < 2 ? 0 : 1])}}
            providers: [{id: echo, type: echo}]
            models: [{id: echo-1, provider: echo}\(odd ? ", {id: echo-2, provider: echo}" : "")]
            routing: {mode: \(odd ? "cheap" : "normal")}
            temporal: {enabled: \(index % 3 == 1), host: \(temporal.address), namespace: \(temporal.namespace), task_queue: tokenhub-soak}
            \(index % 3 == 2 ? "telemetry: [PrometheusTelemetry]" : "")
            """
        }
        let path = try writeConfig(generation(0))
        let server = try await RunningTokenhub.start(configPath: path)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let load = ChatLoad(client, clients: 100)
        for index in 1...20 {
            try await Task.sleep(for: .milliseconds(900))
            let running = "\(token)\((index - 1) % 4 < 2 ? "" : "-b")"
            try generation(index).write(toFile: path, atomically: true, encoding: .utf8)
            let answer = try await client.post("/admin/v1/reload", body: "", headers: ["Authorization": "Bearer \(running)"])
            #expect(answer.status == 200, "reload \(index): \(String(decoding: answer.body, as: UTF8.self))")
        }
        try await Task.sleep(for: .milliseconds(900))
        await load.stop()
        let served = load.served
        #expect(load.failures.isEmpty, "\(load.failures.count) failed: \(load.failures.prefix(5))")
        #expect((served["relay"] ?? 0) > 0 && (served["direct"] ?? 0) > 0, "\(served)")
        #expect(await server.stopped() == 0)
        var rows: [Int] = []
        for store in stores { rows.append(Int(try await sqlite(store, "SELECT COUNT(*) FROM request_logs")) ?? -1) }
        #expect(rows.allSatisfy { $0 > 0 }, "\(rows)")
        #expect(rows.reduce(0, +) == served.values.reduce(0, +), "rows \(rows) for \(served): none lost, none twice")
        FileHandle.standardError.write(Data("reload soak: \(served) answers, rows per store \(rows)\n".utf8))
    }
}
