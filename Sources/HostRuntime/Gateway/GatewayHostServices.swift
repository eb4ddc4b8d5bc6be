import Engine
import Foundation
import Logging
import PluginAPI
import PluginKit
import TokenHubCore

/// The host table's services for a running gateway: the engine for route-and-send, the
/// logger for plugin logs, and the result log.
struct GatewayHostServices: HostServices {
    let engine: Engine
    let logger: Logger
    let results: ResultRecorder
    /// The telemetry plugins: every result (through `results`) and every metric.
    let telemetry: TelemetryFanOut
    /// The event bus: SSE subscribers and the telemetry plugins' `on_event`.
    let events: EventBus
    /// Request statistics windows (`GET /admin/v1/stats`).
    let stats = StatsCollector()

    init(engine: Engine, logger: Logger, defaults: Policy = Policy(), telemetry: TelemetryFanOut = TelemetryFanOut(), events: EventBus? = nil) {
        self.engine = engine
        self.logger = logger
        self.telemetry = telemetry
        let events = events ?? EventBus(telemetry: telemetry)
        self.events = events
        self.results = ResultRecorder(logger: logger, defaults: defaults, telemetry: telemetry, events: events, stats: stats)
    }

    func log(plugin: String, level: LogLevel, message: String) {
        let swiftLevel: Logger.Level = switch level {
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        }
        logger.log(level: swiftLevel, "\(message)", metadata: ["plugin": "\(plugin)"])
    }

    func emitEvent(plugin: String, eventJSON: [UInt8]) {
        logger.debug("event", metadata: ["plugin": "\(plugin)", "event": "\(String(decoding: eventJSON, as: UTF8.self))"])
        // A plugin's event joins the bus: its `type` and `request_id` are the event's, its other
        // members the fields, and `plugin` names who sent it.
        var fields = (try? JSONValue.parse(eventJSON))?.objectValue ?? ["raw": .string(String(decoding: eventJSON.prefix(1024), as: UTF8.self))]
        let type = fields.removeValue(forKey: "type")?.stringValue ?? "plugin_event"
        let requestID = fields.removeValue(forKey: "request_id")?.stringValue
        for reserved in ["sequence", "time_unix_ms"] { fields[reserved] = nil }
        fields["plugin"] = .string(plugin)
        events.publish(type: type, requestID: requestID, fields)
    }

    func recordMetric(plugin: String, kind: MetricKind, name: String, labelsJSON: String, value: Double) {
        logger.trace("metric", metadata: ["plugin": "\(plugin)", "name": "\(name)", "value": "\(value)"])
        telemetry.observe(metric: kind, name: name, labelsJSON: labelsJSON, value: value)
    }

    func routeAndSend(_ chatInputJSON: [UInt8]) async -> PluginReply {
        let input: ChatInput
        do {
            input = try PassThrough.decodeInput(chatInputJSON)
        } catch {
            return .failure(.invalidArgument, "ChatInput: \(error)")
        }
        let output = await engine.routeAndSend(input)
        return Self.reply(output)
    }

    func orchestrate(_ orchestrationInputJSON: [UInt8]) async -> PluginReply {
        let input: OrchestrationInput
        do {
            input = try JSONCoding.decode(OrchestrationInput.self, from: orchestrationInputJSON)
        } catch {
            return .failure(.invalidArgument, "OrchestrationInput: \(error)")
        }
        return Self.reply(await engine.orchestrate(input))
    }

    func logResult(_ logResultJSON: [UInt8]) -> PluginReply {
        let result: LogResult
        do {
            result = try JSONCoding.decode(LogResult.self, from: logResultJSON)
        } catch {
            return .failure(.invalidArgument, "LogResult: \(error)")
        }
        return results.record(result)
    }

    /// A ChatOutput as the ABI reply: ok, or upstream when the output carries an error.
    static func reply(_ output: ChatOutput) -> PluginReply {
        PluginReply(status: output.error.isEmpty ? .ok : .upstream, result: PassThrough.encode(output), message: output.error)
    }
}

/// The gateway's host-table services over `engine` alone (no store, no telemetry, a logger
/// that prints errors only): what `bench/abi.sh` measures the dispatch-plugin hop with.
public func engineOnlyHostServices(_ engine: Engine) -> any HostServices {
    var logger = Logger(label: "tokenhub.bench")
    logger.logLevel = .error
    return GatewayHostServices(engine: engine, logger: logger)
}
