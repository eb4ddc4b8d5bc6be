import ServiceLifecycle
import UnixSignals

/// Reloads the config on SIGHUP, the signal daemons take as "read your config again"
/// (systemd: `ExecReload=kill -HUP $MAINPID`). A refused reload is logged and changes nothing.
struct ConfigReloadOnHangup: Service {
    let gateway: Gateway
    /// Trapped before the server starts, so an early SIGHUP never takes the default action
    /// (terminating the process).
    let hangups: UnixSignalsSequence

    func run() async {
        for await _ in hangups.cancelOnGracefulShutdown() {
            do throws(ConfigReloadError) {
                _ = try await gateway.reloadConfig()
            } catch {
                gateway.logger.error("config reload refused", metadata: ["error": "\(error.message)", "code": "\(error.code.rawValue)"])
            }
        }
    }
}
