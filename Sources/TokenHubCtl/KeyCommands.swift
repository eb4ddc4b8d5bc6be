import ArgumentParser
import TokenHubCore

/// `tokenhubctl keys …`: API keys. A new or rotated key is printed once; the server keeps only
/// its hash.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "API keys: create, list, show, disable, enable, rotate, revoke.",
        subcommands: [Create.self, List.self, Show.self, Disable.self, Enable.self, Rotate.self, Revoke.self])

    static let columns = ["id", "name", "enabled", "scopes", "monthly_budget_usd", "spend_this_month_usd", "rate_limit_rps", "expires_unix_ms"]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; it is shown once.")
        @OptionGroup var connection: Connection
        @Option(help: "A name for people.") var name: String
        @Option(help: "Comma-separated scopes: chat, plan (default: both).") var scopes: String?
        @Option(help: "Monthly budget in USD (0: none).") var budget: Double?
        @Option(help: "Requests per second for this key (0: none).") var rateLimit: Double?
        @Option(help: "Expiry, Unix milliseconds.") var expiresUnixMs: Int64?

        func run() async throws {
            var body: [String: JSONValue] = ["name": .string(name)]
            if let scopes { body["scopes"] = .array(scopes.split(separator: ",").map { .string(String($0)) }) }
            if let budget { body["monthly_budget_usd"] = .number(budget) }
            if let rateLimit { body["rate_limit_rps"] = .number(rateLimit) }
            if let expiresUnixMs { body["expires_unix_ms"] = .number(Double(expiresUnixMs)) }
            let answer = try await connection.client.call(.POST, "/admin/v1/apikeys", body: .object(body))
            Keys.printNewKey(answer, json: connection.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys (never the keys themselves).")
        @OptionGroup var connection: Connection
        func run() async throws {
            let answer = try await connection.client.call(.GET, "/admin/v1/apikeys")
            Output.table(answer["keys"]?.arrayValue ?? [], columns: Keys.columns, json: connection.json, whole: answer)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one key's settings.")
        @OptionGroup var connection: Connection
        @Argument(help: "The key's id.") var id: String
        func run() async throws {
            let answer = try await connection.client.call(.GET, "/admin/v1/apikeys")
            guard let key = answer["keys"]?.arrayValue?.first(where: { $0["id"]?.stringValue == id }) else {
                throw CtlFailure(kind: .refused, message: "no API key with id \(id) (tokenhubctl keys list shows them)")
            }
            Output.object(key, json: connection.json)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a key: refused from the next request on.")
        @OptionGroup var connection: Connection
        @Argument(help: "The key's id.") var id: String
        func run() async throws { try await Keys.setEnabled(false, id: id, connection) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled key.")
        @OptionGroup var connection: Connection
        @Argument(help: "The key's id.") var id: String
        func run() async throws { try await Keys.setEnabled(true, id: id, connection) }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a key with a new one (shown once); the old one stops working.")
        @OptionGroup var connection: Connection
        @Argument(help: "The key's id.") var id: String
        func run() async throws {
            Keys.printNewKey(try await connection.client.call(.POST, "/admin/v1/apikeys/\(escaped(id))/rotate"), json: connection.json)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key for good.")
        @OptionGroup var connection: Connection
        @Argument(help: "The key's id.") var id: String
        func run() async throws {
            _ = try await connection.client.call(.DELETE, "/admin/v1/apikeys/\(escaped(id))")
            Output.done("revoked", id, json: connection.json)
        }
    }

    static func setEnabled(_ enabled: Bool, id: String, _ connection: Connection) async throws {
        let answer = try await connection.client.call(.PATCH, "/admin/v1/apikeys/\(escaped(id))", body: .object(["enabled": .bool(enabled)]))
        Output.object(answer, json: connection.json)
    }

    /// The key, once, with its id; in JSON the server's answer as it is.
    static func printNewKey(_ answer: JSONValue, json: Bool) {
        if json { return Output.printJSON(answer) }
        print("id:  \(Output.text(answer["id"]))")
        print("key: \(Output.text(answer["key"]))")
        print("(the key is shown only now: store it)")
    }
}
