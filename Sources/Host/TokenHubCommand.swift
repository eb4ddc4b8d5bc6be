import ArgumentParser
import Foundation
import HostRuntime
import Logging

/// The `tokenhub` executable: `tokenhub [serve|check-config|plugins]`. The CLI only;
/// everything else lives in HostRuntime.
@main
enum Main {
    static func main() async {
        ExecutorSetup.adoptEventLoopsAsGlobalExecutor()
        // Log lines are written by their own thread: an event loop never waits on stderr's reader.
        LoggingSystem.bootstrapBackground()
        await TokenHubCommand.main()
    }
}

/// The command tree.
struct TokenHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenhub",
        abstract: "TokenHub: an LLM routing gateway and plugin host.",
        discussion: "Config: --config PATH, else $TOKENHUB_CONFIG, else ./config.yaml, else the embedded default.",
        subcommands: [Serve.self, CheckConfig.self, Plugins.self, Secrets.self, Store.self],
        defaultSubcommand: Serve.self)
}

/// Options every subcommand takes.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the config file.")
    var config: String?

    func load() throws -> GatewayConfig {
        do {
            return try ConfigLoader.loadResolved(explicitPath: config)
        } catch {
            throw CLIFailure(message: "config error: \(error)")
        }
    }
}

/// A failure already worded for the operator: printed as is, exit status 1.
struct CLIFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

func makeLogger() -> Logger {
    var logger = Logger(label: "tokenhub")
    logger.logLevel = .info
    return logger
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway (the default command).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let logger = makeLogger()
        logger.info("config: \(config.source)")
        logger.info("executor: \(ExecutorSetup.description)")
        let gateway: Gateway
        do {
            gateway = try await Gateway.start(config: config, logger: logger)
        } catch {
            throw CLIFailure(message: "\(error)")
        }
        try await GatewayServer(gateway: gateway).runUntilSignalled()
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the config, load and create every plugin, and exit without serving.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        do {
            let gateway = try await Gateway.start(config: config, logger: Logger(label: "tokenhub", factory: { _ in SwiftLogNoOpLogHandler() }))
            await gateway.shutdown()
        } catch {
            throw CLIFailure(message: "\(error)")
        }
        print("config OK: \(config.source) (\(config.dispatch.count) dispatcher(s), \(config.providers.count) provider(s), \(config.models.count) model(s))")
    }
}

struct Secrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The secret key provider keys are sealed with.",
        subcommands: [Generate.self, Rotate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new random secret key (base64) for TOKENHUB_SECRET_KEY.")
        func run() { print(SecretKeyring.generateKeyText()) }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every stored provider key under TOKENHUB_SECRET_KEY.",
            discussion: "Set TOKENHUB_SECRET_KEY to the new key and TOKENHUB_SECRET_KEY_PREVIOUS to the old one(s), run this with the gateway stopped, then start the gateway with the new key alone.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            let summary: SecretRotation.Summary
            do {
                summary = try await SecretRotation.rotate(config: config, environment: ProcessInfo.processInfo.environment,
                                                          logger: Logger(label: "tokenhub", factory: { _ in SwiftLogNoOpLogHandler() }))
            } catch {
                throw CLIFailure(message: "secrets rotate: \(error)")
            }
            print("re-sealed \(summary.resealed), sealed from clear \(summary.sealedFromClear), already current \(summary.alreadyCurrent), without a stored key \(summary.withoutStoredKey)")
        }
    }
}

struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List each configured plugin: file, ABI version, kinds, status.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let reports = await Gateway.inspectPlugins(config: config, logger: Logger(label: "tokenhub", factory: { _ in SwiftLogNoOpLogHandler() }))
        for report in reports {
            print("\(report.keyPath): \(report.name)")
            print("  file:    \(report.path)")
            print("  version: \(report.version.isEmpty ? "-" : report.version)")
            print("  abi:     \(report.abiVersion.isEmpty ? "-" : report.abiVersion)")
            print("  sha256:  \(report.sha256.isEmpty ? "-" : report.sha256)")
            print("  kinds:   \(report.kinds.isEmpty ? "-" : report.kinds.map(\.rawValue).joined(separator: ", "))")
            print("  status:  \(report.status)")
        }
        if reports.contains(where: { !$0.isRunning && $0.status != "disabled" }) {
            throw ExitCode(1)
        }
    }
}

struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work on stores without running the gateway.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy providers, models, routing config, API keys (hashes), request logs, audit, rewards and TSDB points from one store to another.",
            discussion: """
                Each store is sqlite:PATH, a postgres:// URL, a config file (its `store`), or a YAML fragment such as \
                '{plugin: PostgresStore, config: {url: postgres://…}}'. Resumable and idempotent: a second run copies nothing twice.
                """)

        @Option(name: .long, help: "The store to read.") var from: String
        @Option(name: .long, help: "The store to write.") var to: String
        @Flag(name: .long, help: "Afterwards compare counts and a checksum per kind; exit 1 on a difference.") var verify = false

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let reports: [StoreTransfer.KindReport]
            let terminal = isatty(STDERR_FILENO) == 1
            do {
                let source = try StoreTransfer.storeConfig(from, environment: environment)
                let destination = try StoreTransfer.storeConfig(to, environment: environment)
                reports = try await StoreTransfer.copy(
                    from: source, to: destination, verify: verify, logger: Logger(label: "tokenhub", factory: { _ in SwiftLogNoOpLogHandler() })
                ) { kind, copied in
                    if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K  copying \(kind): \(copied) rows".utf8)) }
                }
            } catch {
                if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                throw CLIFailure(message: "store copy: \(error)")
            }
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            print("copied from \(StoreTransfer.redacted(from)) to \(StoreTransfer.redacted(to))")
            let header = verify ? ["kind", "copied", "source", "destination", "checksums"] : ["kind", "copied"]
            let rows = reports.map { report in
                verify ? [report.kind, "\(report.copied)", "\(report.sourceCount ?? 0)", "\(report.destinationCount ?? 0)", report.matches ? "equal" : "DIFFER"]
                    : [report.kind, "\(report.copied)"]
            }
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for line in [header] + rows {
                print(line.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
            if verify, let bad = reports.first(where: { !$0.matches }) {
                throw CLIFailure(message: "store copy --verify: \(bad.kind) differs (source \(bad.sourceCount ?? 0) rows, destination \(bad.destinationCount ?? 0))")
            }
        }
    }
}
