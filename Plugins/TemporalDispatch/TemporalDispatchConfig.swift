import PluginKit
import TemporalKit
import TokenHubCore

/// The plugin's `config` object. The host fills `host`, `namespace` and `task_queue` from
/// the `temporal:` section (and `TOKENHUB_TEMPORAL_*`) when the entry does not set them.
struct TemporalDispatchConfig {
    var host = "localhost:7233"
    var namespace = "tokenhub"
    var taskQueue = "tokenhub-tasks"
    /// Create the namespace when it does not exist (a dev server; production registers it).
    var registerNamespace = true
    /// Run the worker in this process (false: another TokenHub instance runs the workflows).
    var worker = true
    var breakerFailures = 3
    var breakerOpenSeconds = 30.0
    var workflowPollers = 2
    var activityPollers = 4
    var maxConcurrentActivities = 128
    /// `{ca_file, cert_file, key_file}`: TLS to the frontend (the host fills it from `temporal.tls`).
    var tls: TemporalTLS?

    static let keys = ["host", "namespace", "task_queue", "register_namespace", "worker", "breaker_failures",
                       "breaker_open_seconds", "workflow_pollers", "activity_pollers", "max_concurrent_activities", "tls"]

    /// Reads the config, naming the field on any error.
    init(json bytes: [UInt8]) throws {
        guard let value = try? JSONValue.parse(bytes.isEmpty ? Array("{}".utf8) : bytes), let members = value.objectValue else {
            throw PluginError("config: expected a JSON object")
        }
        for key in members.keys.sorted() where !Self.keys.contains(key) {
            throw PluginError("config.\(key): unknown key (expected one of \(Self.keys.joined(separator: ", ")))")
        }
        func string(_ key: String, _ current: String) throws -> String {
            guard let field = members[key] else { return current }
            guard let text = field.stringValue, !text.isEmpty else { throw PluginError("config.\(key): expected a non-empty string") }
            return text
        }
        func bool(_ key: String, _ current: Bool) throws -> Bool {
            guard let field = members[key] else { return current }
            guard case .bool(let flag) = field else { throw PluginError("config.\(key): expected true or false") }
            return flag
        }
        func number(_ key: String, _ current: Double, minimum: Double, maximum: Double) throws -> Double {
            guard let field = members[key] else { return current }
            guard let number = field.numberValue, number >= minimum, number <= maximum else {
                throw PluginError("config.\(key): expected a number from \(minimum) to \(maximum), got \(field)")
            }
            return number
        }
        func count(_ key: String, _ current: Int, maximum: Int) throws -> Int {
            let number = try number(key, Double(current), minimum: 1, maximum: Double(maximum))
            guard number.rounded() == number else { throw PluginError("config.\(key): expected a whole number, got \(number)") }
            return Int(number)
        }
        host = try string("host", host)
        namespace = try string("namespace", namespace)
        taskQueue = try string("task_queue", taskQueue)
        registerNamespace = try bool("register_namespace", registerNamespace)
        worker = try bool("worker", worker)
        breakerFailures = try count("breaker_failures", breakerFailures, maximum: 1_000_000)
        breakerOpenSeconds = try number("breaker_open_seconds", breakerOpenSeconds, minimum: 0.1, maximum: 86_400)
        workflowPollers = try count("workflow_pollers", workflowPollers, maximum: 64)
        activityPollers = try count("activity_pollers", activityPollers, maximum: 64)
        maxConcurrentActivities = try count("max_concurrent_activities", maxConcurrentActivities, maximum: 10_000)
        if let field = members["tls"], field != .null {
            guard let tlsMembers = field.objectValue else { throw PluginError("config.tls: expected an object {ca_file, cert_file, key_file}") }
            var tls = TemporalTLS()
            for (key, value) in tlsMembers {
                guard let path = value.stringValue else { throw PluginError("config.tls.\(key): expected a file path") }
                switch key {
                case "ca_file": tls.caFile = path
                case "cert_file": tls.certFile = path
                case "key_file": tls.keyFile = path
                default: throw PluginError("config.tls.\(key): unknown key (expected ca_file, cert_file, key_file)")
                }
            }
            self.tls = tls
        }
    }
}
