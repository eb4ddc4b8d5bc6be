import ServiceLifecycle
import TokenHubCore

/// Publishes a `heartbeat` event every `interval`, so a subscriber can tell a quiet gateway from
/// a dead stream and sees the sequence and generation move. On graceful shutdown it closes the
/// bus: the open event streams end, so the server's drain is not held by them. (It is listed
/// after the server in the service group, so it stops first.)
struct EventHeartbeat: Service {
    let gateway: Gateway
    var interval: Duration = .seconds(15)

    func run() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            gateway.services.events.publish(.heartbeat, ["generation": .number(Double(gateway.generationNumber))])
        }
        gateway.services.events.close()
    }
}
