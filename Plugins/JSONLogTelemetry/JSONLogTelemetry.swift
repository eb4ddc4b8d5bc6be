import Foundation
import PluginAPI
import PluginKit
import TokenHubCore

/// One JSON object per line for every request result and every event, to a file or standard
/// output: what a log shipper (Vector, Fluent Bit, Promtail) tails.
///
/// Every line has a `type`: `result` for a request's outcome (ids, model, provider, status,
/// latency, cost and token counts, never a prompt or an answer), otherwise the event's own
/// type with its fields as the bus publishes them. Lines are queued and written by a
/// `BackgroundLineWriter` thread, so observing never waits on the disk; past `buffer_bytes`
/// lines are dropped, counted (`tokenhub_jsonlog_dropped_lines_total`) and announced in the file
/// as a `jsonlog_dropped` line. The file is reopened whenever the host reloads its
/// configuration (SIGHUP, `POST /admin/v1/reload`, a watched file), applied or rejected, so
/// logrotate can move it and signal the gateway: each line lands once, in the old file or
/// the new.
final class JSONLogTelemetry: SwiftTelemetry {
    private let settings: JSONLogSettings
    private let writer: BackgroundLineWriter

    init(host: HostTable, configJSON: [UInt8]) throws {
        let settings = try JSONLogSettings(configJSON: configJSON)
        self.settings = settings
        let labels = JSONValue.object(["path": .string(settings.path ?? "stdout")]).serializedString
        let notice: @Sendable (Int) -> String = { lost in
            host.recordMetric(.counter, name: "tokenhub_jsonlog_dropped_lines_total", labelsJSON: labels, value: Double(lost))
            let line = JSONValue.object(["type": .string("jsonlog_dropped"), "lines": .number(Double(lost)),
                                         "time_unix_ms": .number(Self.nowUnixMs())])
            return line.serializedString + "\n"
        }
        if let path = settings.path {
            do {
                writer = try BackgroundLineWriter(path: path, capacityBytes: settings.bufferBytes, threadName: "tokenhub-jsonlog", dropNotice: notice)
            } catch {
                throw PluginError("config.path: \(error)")
            }
        } else {
            writer = BackgroundLineWriter(fileDescriptor: 1, capacityBytes: settings.bufferBytes, threadName: "tokenhub-jsonlog", dropNotice: notice)
        }
    }

    func observe(resultJSON: [UInt8]) {
        guard settings.results, let result = try? JSONCoding.decode(LogResult.self, from: resultJSON) else { return }
        writer.write(Self.line(result, timeUnixMs: Self.nowUnixMs()))
    }

    func observe(eventJSON: [UInt8]) {
        guard let event = try? JSONValue.parse(eventJSON), let type = event["type"]?.stringValue else { return }
        // Any reload attempt is the signal to reopen (logrotate's postrotate sends SIGHUP).
        if type == "config_reloaded" || type == "config_rejected" { writer.reopen() }
        guard settings.events, settings.eventTypes?.contains(type) ?? true else { return }
        writer.write(event.serializedString + "\n")
    }

    func observe(metric kind: MetricKind, name: String, labelsJSON: String, value: Double) {}

    func scrape() async -> String { "" }

    func stop() async {
        let writer = self.writer
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // close() waits on the writer thread: not on a cooperative thread.
            Thread {
                writer.close(timeout: .seconds(5))
                done.resume()
            }.start()
        }
    }

    /// A result's line: what a request log keeps, flat, keys sorted.
    static func line(_ result: LogResult, timeUnixMs: Double) -> String {
        let output = result.output, usage = output.response["usage"]
        var fields: [String: JSONValue] = [
            "type": .string("result"), "time_unix_ms": .number(timeUnixMs), "request_id": .string(result.requestID),
            "api_key_id": .string(result.apiKeyID), "kind": .string(result.kind), "mode": .string(result.mode),
            "dispatcher": .string(result.dispatcher), "model": .string(output.decision.modelID),
            "provider": .string(output.decision.providerID), "status": .string(output.error.isEmpty ? "ok" : "error"),
            "latency_ms": .number(Double(output.latencyMs)), "cost_usd": .number(output.decision.estimatedCostUSD),
        ]
        if !output.error.isEmpty {
            fields["error"] = .string(output.error)
            fields["error_class"] = .string(output.errorClass?.rawValue ?? "")
        }
        for key in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            if let count = usage?[key]?.numberValue { fields[key] = .number(count) }
        }
        return JSONValue.object(fields).serializedString + "\n"
    }

    static func nowUnixMs() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) * 1000 + Double(now.tv_nsec / 1_000_000)
    }
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "jsonlog", version: "0.1.0", telemetry: JSONLogTelemetry.self)
}
