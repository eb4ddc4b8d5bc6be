import Foundation
import ArgumentParser
import TokenHubCore

/// `tokenhubctl providers …` and `models …`: the registry, with the admin API's validation
/// (its errors name the field). Fields are `key=value` (numbers and true/false as JSON,
/// `[a,b]` for lists), the same keys as config.yaml.
struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Providers: list, add, edit, delete. Keys are write-only: give api_key_env=VAR to read one from the environment.",
        subcommands: [List.self, Add.self, Edit.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List providers (keys never shown: has_api_key).")
        @OptionGroup var connection: Connection
        func run() async throws {
            let answer = try await connection.client.call(.GET, "/admin/v1/providers")
            Output.table(answer["providers"]?.arrayValue ?? [], columns: ["id", "type", "enabled", "base_url", "has_api_key", "timeout_ms"],
                         json: connection.json, whole: answer)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add (or replace) a provider: tokenhubctl providers add id=openai type=openai api_key_env=OPENAI_API_KEY")
        @OptionGroup var connection: Connection
        @Argument(help: "key=value fields.") var fields: [String]
        func run() async throws {
            let answer = try await connection.client.call(.POST, "/admin/v1/providers", body: try providerFields(self.fields))
            Output.object(answer, json: connection.json)
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change some of a provider's fields: tokenhubctl providers edit openai enabled=false")
        @OptionGroup var connection: Connection
        @Argument(help: "The provider's id.") var id: String
        @Argument(help: "key=value fields.") var fields: [String]
        func run() async throws {
            let answer = try await connection.client.call(.PATCH, "/admin/v1/providers/\(escaped(id))", body: try providerFields(self.fields))
            Output.object(answer, json: connection.json)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a provider no model uses.")
        @OptionGroup var connection: Connection
        @Argument(help: "The provider's id.") var id: String
        func run() async throws {
            _ = try await connection.client.call(.DELETE, "/admin/v1/providers/\(escaped(id))")
            Output.done("deleted", id, json: connection.json)
        }
    }
}

/// Provider fields, with `api_key_env=VAR` read from the environment (a key on the command
/// line would land in the shell's history).
private func providerFields(_ pairs: [String]) throws -> JSONValue {
    var object = try fields(pairs).objectValue ?? [:]
    if let variable = object.removeValue(forKey: "api_key_env")?.stringValue {
        guard let key = ProcessInfo.processInfo.environment[variable], !key.isEmpty else {
            throw CtlFailure.usage("api_key_env=\(variable): the environment variable \(variable) is not set")
        }
        object["api_key"] = .string(key)
    }
    return .object(object)
}

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Models: list, add, edit, delete.", subcommands: [List.self, Add.self, Edit.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List models.")
        @OptionGroup var connection: Connection
        func run() async throws {
            let answer = try await connection.client.call(.GET, "/admin/v1/models")
            Output.table(answer["models"]?.arrayValue ?? [], columns: ["id", "provider", "enabled", "weight", "input_price_per_1k", "output_price_per_1k", "max_context_tokens"],
                         json: connection.json, whole: answer)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add (or replace) a model: tokenhubctl models add id=gpt-4o provider=openai weight=5")
        @OptionGroup var connection: Connection
        @Argument(help: "key=value fields.") var fields: [String]
        func run() async throws {
            Output.object(try await connection.client.call(.POST, "/admin/v1/models", body: try TokenHubCtlFields.parse(self.fields)), json: connection.json)
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change some of a model's fields: tokenhubctl models edit gpt-4o weight=8")
        @OptionGroup var connection: Connection
        @Argument(help: "The model's id (may contain /).") var id: String
        @Argument(help: "key=value fields.") var fields: [String]
        func run() async throws {
            Output.object(try await connection.client.call(.PATCH, "/admin/v1/models/\(escaped(id, keepSlash: true))", body: try TokenHubCtlFields.parse(self.fields)),
                          json: connection.json)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a model.")
        @OptionGroup var connection: Connection
        @Argument(help: "The model's id (may contain /).") var id: String
        func run() async throws {
            _ = try await connection.client.call(.DELETE, "/admin/v1/models/\(escaped(id, keepSlash: true))")
            Output.done("deleted", id, json: connection.json)
        }
    }
}

/// `fields(_:)` under a name the subcommands' own `fields` properties do not shadow.
enum TokenHubCtlFields {
    static func parse(_ pairs: [String]) throws -> JSONValue { try fields(pairs) }
}

struct Routing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The default routing policy: get, set.", subcommands: [Get.self, Set.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the default policy.")
        @OptionGroup var connection: Connection
        func run() async throws { Output.object(try await connection.client.call(.GET, "/admin/v1/routing-config"), json: connection.json) }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change it: tokenhubctl routing set mode=cheap max_latency_ms=20000")
        @OptionGroup var connection: Connection
        @Argument(help: "key=value fields: mode, max_budget_usd, max_latency_ms, min_weight.") var fields: [String]
        func run() async throws {
            var policy = try await connection.client.call(.GET, "/admin/v1/routing-config").objectValue ?? [:]
            for (key, value) in try TokenHubCtlFields.parse(self.fields).objectValue ?? [:] { policy[key] = value }
            Output.object(try await connection.client.call(.PUT, "/admin/v1/routing-config", body: .object(policy)), json: connection.json)
        }
    }
}
