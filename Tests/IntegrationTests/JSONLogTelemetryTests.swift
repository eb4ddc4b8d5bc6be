import Foundation
import Testing
import TestSupport
import TokenHubCore

/// JSONLogTelemetry on a running `tokenhub serve`: a JSON line per result and per event, and a
/// file that logrotate can move while requests flow.
@Suite("JSON-lines telemetry", .serialized)
struct JSONLogTelemetryTests {
    /// Every line of `path` as JSON; fails on a line that is not an object with a `type`.
    func lines(_ path: String) throws -> [JSONValue] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let value = try JSONValue.parse(Array(line.utf8))
            guard value["type"]?.stringValue != nil else { throw SubprocessError(message: "a line without type: \(line)") }
            return value
        }
    }

    @Test("renamed twice and signalled with SIGHUP while requests flow: every request's line lands once across the three files, no prompt in any")
    func rotatesOnHangup() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jsonlog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tokenhub.jsonl").path
        let config = try writeConfig("""
        dispatch: {chain: [DirectDispatch]}
        telemetry:
          - {plugin: JSONLogTelemetry, config: {path: \(file)}}
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        let client = HTTPTestClient(baseURL: server.baseURL)
        let body = #"{"request":{"messages":[{"role":"user","content":"prompt-text-never-logged"}]}}"#
        let stop = StopFlag()
        let traffic = Task {
            try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var ids: [String] = []
                        while !stop.isSet {
                            let answer = try await client.post("/v1/chat", body: body)
                            if answer.status == 200, let id = answer.json?["request_id"]?.stringValue { ids.append(id) }
                        }
                        return ids
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
        }
        // Each file gets result lines before it is moved: rotations happen while answers flow.
        func resultLines(_ path: String) -> Int {
            ((try? lines(path)) ?? []).filter { $0["type"]?.stringValue == "result" }.count
        }
        func waitForResults(in path: String) async throws {
            var waited = 0
            while resultLines(path) < 5, waited < 400 {
                try await Task.sleep(for: .milliseconds(25))
                waited += 1
            }
        }
        // However the test ends, the traffic stops (a thrown error must not leave it running).
        defer { stop.set() }
        for rotation in 1...2 {
            try await waitForResults(in: file)
            try FileManager.default.moveItem(atPath: file, toPath: "\(file).\(rotation)")
            kill(server.process.processIdentifier, SIGHUP)
        }
        try await waitForResults(in: file)
        stop.set()
        let answered = try await traffic.value
        #expect(answered.count >= 15)
        #expect(await server.stopped() == 0)

        let files = ["\(file).1", "\(file).2", file]
        var seen: [String: Int] = [:]
        for path in files {
            let parsed = try lines(path)
            #expect(parsed.contains { $0["type"]?.stringValue == "result" }, "\(path) got result lines")
            for line in parsed where line["type"]?.stringValue == "result" {
                seen[line["request_id"]?.stringValue ?? "", default: 0] += 1
                #expect(line["model"]?.stringValue == "echo-1" && line["status"]?.stringValue == "ok" && line["latency_ms"]?.numberValue != nil)
            }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!text.contains("prompt-text-never-logged"), "\(path) carries a prompt")
            #expect(!text.contains("jsonlog_dropped"))
        }
        #expect(Set(seen.keys) == Set(answered), "every answered request has a line, and only those")
        #expect(seen.values.allSatisfy { $0 == 1 }, "no line twice: \(seen.filter { $0.value > 1 })")
        // The reload each signal caused is itself on the bus, so in a file.
        let events = try files.flatMap(lines).compactMap { $0["type"]?.stringValue }
        #expect(events.filter { $0 == "config_reloaded" }.count == 2, "\(Set(events))")
    }

    @Test("a path that cannot be opened refuses the config, naming config.path and the reason")
    func unopenablePath() async throws {
        let config = try writeConfig("""
        dispatch: {chain: [DirectDispatch]}
        telemetry:
          - {plugin: JSONLogTelemetry, config: {path: /nonexistent-dir/tokenhub.jsonl}}
        \(echoRegistryYAML)
        """)
        let check = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", config])
        #expect(check.status != 0)
        #expect(check.stderr.contains("config.path") && check.stderr.contains("/nonexistent-dir/tokenhub.jsonl")
                && check.stderr.contains("No such file or directory"), "\(check.stderr)\(check.stdout)")
        let bad = try writeConfig("telemetry:\n  - {plugin: JSONLogTelemetry, config: {buffer_bytes: 10}}\n\(echoRegistryYAML)")
        let small = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", bad])
        #expect(small.status != 0 && (small.stderr + small.stdout).contains("config.buffer_bytes: expected 65536"), "\(small.stderr)")
    }
}
