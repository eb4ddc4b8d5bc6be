import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The HTTP server over a gateway, as a `Service` with one `run()`.
public struct GatewayServer: Service {
    let gateway: Gateway
    let onListening: @Sendable (String, Int) async -> Void

    /// Creates a server; `onListening` receives the bound host and port (useful with port 0).
    public init(gateway: Gateway, onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }) {
        self.gateway = gateway
        self.onListening = onListening
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, finishes in-flight requests,
    /// and drains and stops the plugins. SIGHUP reloads the config (`ConfigReload`).
    ///
    /// The group shuts its services down in reverse order: the reloader, then this server,
    /// then the plugins (`PluginHostService`), so that no request is still running when its
    /// plugins stop.
    public func runUntilSignalled() async throws {
        let reloader = ConfigReloadOnHangup(gateway: gateway, hangups: await UnixSignalsSequence(trapping: .sighup))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: PluginHostService(gateway: gateway)), .init(service: self),
                           .init(service: reloader, successTerminationBehavior: .ignore),
                           .init(service: ConfigFileWatcher(gateway: gateway), successTerminationBehavior: .ignore),
                           .init(service: StoreRevisionWatcher(gateway: gateway), successTerminationBehavior: .ignore),
                           .init(service: EventHeartbeat(gateway: gateway), successTerminationBehavior: .ignore)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: gateway.logger))
        try await group.run()
    }

    /// Serves until cancelled or a graceful shutdown. The plugins are `PluginHostService`'s.
    public func run() async throws {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: CodingsMiddleware())
        GatewayRoutes(gateway: gateway).register(on: router)
        let server = gateway.config.server
        let logger = gateway.logger
        let onListening = onListening
        let application = Application(
            router: router,
            // One idle timer covers an idle keep-alive connection, a request head that never
            // completes and a body that stops arriving: Hummingbird closes a connection that
            // reads nothing for this long unless it is writing a response.
            server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(server.idleTimeoutMs)))),
            configuration: .init(address: .hostname(server.host, port: server.port), serverName: "tokenhub",
                                 availableConnectionsDelegate: MaximumAvailableConnections(server.maxConnections, logger: logger)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? server.port
                logger.notice("tokenhub listening on \(server.host):\(port)")
                if server.adminToken == nil {
                    logger.notice("admin API is off: no server.admin_token (or TOKENHUB_ADMIN_TOKEN) is configured")
                }
                await onListening(server.host, port)
            },
            logger: logger)
        try await application.run()
    }
}
