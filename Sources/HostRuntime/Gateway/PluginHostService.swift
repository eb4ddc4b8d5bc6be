import ServiceLifecycle

/// The gateway's plugins as a `Service`: it holds them while the process serves, and on
/// graceful shutdown drains and stops them (`Gateway.shutdown`, bounded by
/// `server.shutdown_timeout_ms`). Placed before the HTTP server in the service group, it is
/// shut down after the server has stopped accepting and finished its requests: the order
/// comes from the group, not from the server's code.
public struct PluginHostService: Service {
    let gateway: Gateway

    /// A service over `gateway`'s plugins.
    public init(gateway: Gateway) { self.gateway = gateway }

    /// Waits for graceful shutdown (or cancellation), then stops the plugins. The stop runs in
    /// its own task: a cancelled group must not cut the drain short (a cancelled wait would
    /// abandon the plugins' `stop` calls and the queued log rows); its own deadline bounds it.
    public func run() async throws {
        try? await gracefulShutdown()
        let gateway = self.gateway
        await Task { await gateway.shutdown() }.value
    }
}
