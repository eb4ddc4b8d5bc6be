import ArgumentParser
import Foundation
import TokenHubCore

/// `tokenhubctl`: TokenHub's admin API from the shell. Exit status: 0 done, 1 the server said
/// no, 2 bad usage, 3 the server could not be reached.
@main
enum Main {
    static func main() async {
        do {
            var command = try TokenHubCtl.parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let failure as CtlFailure {
            FileHandle.standardError.write(Data("tokenhubctl: \(failure.message)\n".utf8))
            exit(failure.kind.rawValue)
        } catch {
            // ArgumentParser's own outcomes: --help and --version exit 0, a usage error 2.
            let code = TokenHubCtl.exitCode(for: error)
            let message = TokenHubCtl.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            FileHandle.standardError.write(Data("\(message)\n".utf8))
            exit(code == .validationFailure ? CtlFailure.Kind.usage.rawValue : CtlFailure.Kind.usage.rawValue)
        }
    }
}

/// The command tree.
struct TokenHubCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenhubctl",
        abstract: "Run a TokenHub gateway from the shell: keys, providers, models, routing, logs, workflows, stats, health, reloads.",
        discussion: """
        Server: --url, else $TOKENHUB_URL, else http://127.0.0.1:8080. Admin token: --token, else $TOKENHUB_ADMIN_TOKEN.
        Exit status: 0 done, 1 the server said no, 2 bad usage, 3 the server could not be reached.
        Shell completion: tokenhubctl --generate-completion-script bash|zsh|fish
        """,
        subcommands: [Keys.self, Providers.self, Models.self, Routing.self, Logs.self, Workflows.self,
                      Stats.self, Health.self, Reload.self, Plugins.self])
}

/// Options every command takes.
struct Connection: ParsableArguments {
    @Option(help: "The gateway's base URL (default: $TOKENHUB_URL, else http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "The admin token (default: $TOKENHUB_ADMIN_TOKEN). Prefer the variable: a flag shows in `ps`.")
    var token: String?

    @Flag(help: "Print the server's JSON instead of a table.")
    var json = false

    var client: AdminClient {
        let environment = ProcessInfo.processInfo.environment
        var base = url ?? environment["TOKENHUB_URL"] ?? "http://127.0.0.1:8080"
        while base.hasSuffix("/") { base.removeLast() }
        return AdminClient(baseURL: base, token: token ?? environment["TOKENHUB_ADMIN_TOKEN"] ?? "")
    }

    func validate() throws {
        if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ValidationError("--url: expected http://host:port or https://host:port, got \(url)")
        }
    }
}

/// Parses `key=value` arguments into a JSON object: numbers, true/false and null as JSON, a
/// value in brackets as a comma-separated list, anything else a string.
func fields(_ pairs: [String]) throws -> JSONValue {
    var object: [String: JSONValue] = [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw CtlFailure.usage("\(pair): expected key=value")
        }
        let key = String(pair[..<equals]), raw = String(pair[pair.index(after: equals)...])
        object[key] = scalar(raw)
    }
    return .object(object)
}

private func scalar(_ raw: String) -> JSONValue {
    if raw == "true" { return .bool(true) }
    if raw == "false" { return .bool(false) }
    if raw == "null" { return .null }
    if raw.hasPrefix("["), raw.hasSuffix("]") {
        let inner = raw.dropFirst().dropLast()
        return .array(inner.isEmpty ? [] : inner.split(separator: ",").map { scalar($0.trimmingCharacters(in: .whitespaces)) })
    }
    if let number = Double(raw), raw.first.map({ $0.isNumber || $0 == "-" }) == true { return .number(number) }
    return .string(raw)
}

/// A path segment with `/` and other reserved characters escaped (model ids may hold `/`).
func escaped(_ segment: String, keepSlash: Bool = false) -> String {
    var allowed = CharacterSet.urlPathAllowed
    if !keepSlash { allowed.remove("/") }
    return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
}

/// `value` percent-encoded for a query string: only unreserved characters stay as they are, so
/// `&`, `=`, `+` and `#` in a value cannot split or end it.
func queryEscaped(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? value
}
