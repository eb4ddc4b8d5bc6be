import ArgumentParser
import Foundation
import TokenHubCore

/// `tokenhubctl logs [-f]`: the request log, newest first; `-f` follows the event stream.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Request logs, newest first; -f follows new requests live.")
    @OptionGroup var connection: Connection
    @Option(help: "How many rows (1 to 1000).") var limit = 20
    @Flag(name: [.short, .customLong("follow")], help: "Follow: print each request as it finishes (the event stream).") var follow = false
    @Option(help: "Only this model's requests.") var model: String?
    @Option(help: "Only this provider's requests.") var provider: String?
    @Option(help: "Only this API key's requests (its id).") var key: String?
    @Option(help: "Only requests with this status (ok, error).") var status: String?
    @Option(help: "Only requests since this time: ms since 1970 or RFC 3339.") var since: String?

    static let columns = ["time_unix_ms", "request_id", "model_id", "provider_id", "status", "latency_ms", "estimated_cost_usd", "error_class"]

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit: expected 1 to 1000, got \(limit)") }
        if follow, [model, provider, key, status, since].contains(where: { $0 != nil }) {
            throw ValidationError("--follow prints every request; the filters (--model, --provider, --key, --status, --since) apply to stored logs only")
        }
    }

    func run() async throws {
        let client = connection.client
        if !follow {
            var path = "/admin/v1/logs?limit=\(limit)"
            for (name, value) in [("model", model), ("provider", provider), ("key", key), ("status", status), ("since", since)] {
                if let value { path += "&\(name)=\(queryEscaped(value))" }
            }
            let answer = try await client.call(.GET, path)
            return Output.table(answer["rows"]?.arrayValue ?? [], columns: Self.columns, json: connection.json, whole: answer)
        }
        let json = connection.json
        try await client.events("/admin/v1/events?types=route_success,route_error") { type, event in
            guard type == "route_success" || type == "route_error" else { return }
            if json { return Output.printJSON(event) }
            let fields = ["request_id", "model_id", "provider_id", "dispatcher", "latency_ms", "estimated_cost_usd", "error_class"]
            print(([type == "route_success" ? "ok   " : "error"] + fields.compactMap { key in event[key].map { "\(key)=\(Output.text($0))" } })
                .joined(separator: " "))
            fflush(nil)  // every stream: a pipe reader sees each line as it comes
        }
    }
}

/// `tokenhubctl workflows …`: Temporal workflows through the admin API.
struct Workflows: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Temporal workflows: list, show, history.", subcommands: [List.self, Show.self, History.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent workflows.")
        @OptionGroup var connection: Connection
        @Option(help: "RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, CONTINUED_AS_NEW or TIMED_OUT.") var status: String?
        @Option(help: "How many.") var limit = 50
        func run() async throws {
            var path = "/admin/v1/workflows?limit=\(limit)"
            if let status { path += "&status=\(queryEscaped(status))" }
            let answer = try await connection.client.call(.GET, path)
            if answer["temporal_enabled"] == .bool(false), !connection.json { return print("Temporal dispatch is not enabled on this gateway") }
            Output.table(answer["workflows"]?.arrayValue ?? [], columns: ["workflow_id", "type", "status", "start_time", "close_time"],
                         json: connection.json, whole: answer)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One workflow: status, times, pending activities and children.")
        @OptionGroup var connection: Connection
        @Argument(help: "The workflow id.") var id: String
        func run() async throws {
            Output.object(try await connection.client.call(.GET, "/admin/v1/workflows/\(escaped(id))"), json: connection.json)
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A workflow's events.")
        @OptionGroup var connection: Connection
        @Argument(help: "The workflow id.") var id: String
        func run() async throws {
            let answer = try await connection.client.call(.GET, "/admin/v1/workflows/\(escaped(id))/history")
            Output.table(answer["events"]?.arrayValue ?? [], columns: ["event_id", "event_type", "event_time", "activity_type", "failure"],
                         json: connection.json, whole: answer)
        }
    }
}

/// `tokenhubctl stats`: the stats windows.
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Requests, errors, latency percentiles and cost over a window, globally and per model, provider and mode.")
    @OptionGroup var connection: Connection
    @Option(help: "1m, 5m, 1h or 24h.") var window = "1h"

    func validate() throws {
        guard ["1m", "5m", "1h", "24h"].contains(window) else { throw ValidationError("--window: expected 1m, 5m, 1h or 24h, got \(window)") }
    }

    func run() async throws {
        let answer = try await connection.client.call(.GET, "/admin/v1/stats")
        guard !connection.json else { return Output.printJSON(answer) }
        let selected = answer["windows"]?[window]
        var rows: [JSONValue] = []
        if var global = selected?["global"]?.objectValue {
            global["group"] = .string("global")
            rows.append(.object(global))
        }
        for (label, prefix) in [("by_model", "model"), ("by_provider", "provider"), ("by_mode", "mode")] {
            for (key, value) in (selected?[label]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                var row = value.objectValue ?? [:]
                row["group"] = .string("\(prefix):\(key)")
                rows.append(.object(row))
            }
        }
        print("window \(window)")
        Output.table(rows, columns: ["group", "requests", "errors", "error_rate", "latency_ms.p50", "latency_ms.p95", "latency_ms.p99", "cost_usd", "tokens"],
                     json: false, whole: answer)
    }
}

/// `tokenhubctl health`: provider health.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Each provider's state, latency, error rate and last error.")
    @OptionGroup var connection: Connection
    func run() async throws {
        let answer = try await connection.client.call(.GET, "/admin/v1/health")
        Output.table(answer["providers"]?.arrayValue ?? [], columns: ["id", "state", "latency_ewma_ms", "error_rate", "consecutive_errors", "last_error_class"],
                     json: connection.json, whole: answer)
    }
}

/// `tokenhubctl reload`: re-read the config file.
struct Reload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-read config.yaml on the server; prints what changed, or why it was refused.")
    @OptionGroup var connection: Connection
    func run() async throws {
        Output.object(try await connection.client.call(.POST, "/admin/v1/reload"), json: connection.json)
    }
}

/// `tokenhubctl plugins`: the running generation's plugins (from /healthz: no token needed).
struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The plugins the running generation loaded: name, version, ABI, kinds, status, SHA-256.")
    @OptionGroup var connection: Connection
    func run() async throws {
        let answer = try await connection.client.call(.GET, "/healthz", needsToken: false)
        if !connection.json { print("generation \(Output.text(answer["generation"])), status \(Output.text(answer["status"]))") }
        Output.table(answer["plugins"]?.arrayValue ?? [], columns: ["name", "version", "abi", "kinds", "status", "sha256"],
                     json: connection.json, whole: answer)
    }
}
