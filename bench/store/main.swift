// Request-log appends per second through the store ABI (SQLiteStore or PostgresStore),
// and the latency of one append. Run through `bench/store.sh`; prints figures.
import Foundation
import HostRuntime
import PluginAPI
import PluginKit
import TokenHubCore

struct NoopServices: HostServices {
    func log(plugin: String, level: LogLevel, message: String) {}
    func emitEvent(plugin: String, eventJSON: [UInt8]) {}
    func recordMetric(plugin: String, kind: MetricKind, name: String, labelsJSON: String, value: Double) {}
    func routeAndSend(_ chatInputJSON: [UInt8]) async -> PluginReply { .failure(.notSupported, "") }
    func orchestrate(_ orchestrationInputJSON: [UInt8]) async -> PluginReply { .failure(.notSupported, "") }
    func logResult(_ logResultJSON: [UInt8]) -> PluginReply { PluginReply(status: .ok) }
}

func row(_ id: Int) -> [UInt8] {
    JSONValue.object([
        "request_id": .string("req-\(id)"), "time_unix_ms": .number(Double(id)), "api_key_id": .string("key-\(id % 16)"),
        "kind": .string("chat"), "mode": .string("normal"), "model_id": .string("m"), "provider_id": .string("p"),
        "dispatcher": .string("direct"), "estimated_cost_usd": .number(0.0001), "latency_ms": .number(12),
        "status": .string("ok"), "error_class": .string(""),
    ]).serialized
}

nonisolated func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

nonisolated func append(_ store: StoreInstance, _ payload: [UInt8], operation: String = "request_log.append") async {
    let reply = await store.call(operation, payload)
    precondition(reply.status == .ok, reply.message)
}

nonisolated func run(library path: String, config given: String, rows total: Int, concurrency: Int) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let library = try PluginLibrary.load(path: path)
    // "-": a SQLite file in a scratch directory; otherwise the store's config JSON.
    let config = given == "-" ? JSONValue.object(["path": .string(directory.appendingPathComponent("bench.db").path)]).serialized : Array(given.utf8)
    let store = try await StoreInstance.start(library: library, name: "store", configJSON: config, services: NoopServices())

    let payloads = (0..<total).map(row)
    let started = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        var next = 0
        for _ in 0..<concurrency where next < total {
            let payload = payloads[next]; next += 1
            group.addTask { await append(store, payload) }
        }
        while await group.next() != nil, next < total {
            let payload = payloads[next]; next += 1
            group.addTask { await append(store, payload) }
        }
    }
    let elapsed = milliseconds(.now - started)
    print(String(format: "single-row appends, concurrency %d: %d rows in %.0f ms = %.0f rows/s", concurrency, total, elapsed, Double(total) / elapsed * 1000))

    let batchSize = 512
    let batches = stride(from: 0, to: total, by: batchSize).map { start in
        JSONValue.object(["rows": .array((start..<min(start + batchSize, total)).map { try! JSONValue.parse(row(total * 2 + $0)) })]).serialized
    }
    let batchStarted = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        for batch in batches.prefix(8) { group.addTask { await append(store, batch, operation: "request_log.append_batch") } }
        var next = 8
        while await group.next() != nil, next < batches.count {
            let batch = batches[next]; next += 1
            group.addTask { await append(store, batch, operation: "request_log.append_batch") }
        }
    }
    let batchElapsed = milliseconds(.now - batchStarted)
    print(String(format: "batched appends (%d rows per call, as the host's recorder sends them): %.0f rows/s (target >= 50000)",
                 batchSize, Double(total) / batchElapsed * 1000))

    var latencies: [Double] = []
    for index in 0..<2000 {
        let payload = row(total + index)
        let start = ContinuousClock.now
        _ = await store.call("request_log.append", payload)
        latencies.append(milliseconds(.now - start) * 1000)
    }
    latencies.sort()
    print(String(format: "one append at concurrency 1 (until committed): p50 %.0f us, p99 %.0f us", latencies[1000], latencies[1980]))
    await store.stop(deadline: .now + .seconds(30))
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: StoreBench <libSQLiteStore.so|libPostgresStore.so> <config JSON, or - for a scratch SQLite file> [rows] [concurrency]")
    exit(2)
}
try await run(library: arguments[1], config: arguments[2], rows: arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000,
              concurrency: arguments.count > 4 ? Int(arguments[4]) ?? 256 : 256)
