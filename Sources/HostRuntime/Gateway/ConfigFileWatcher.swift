import ServiceLifecycle

/// `server.watch_config`: reloads when the config file changes, as SIGHUP does. Checks the
/// file's identity (device, inode, size, modification time) once per `interval`, so an editor
/// that saves by renaming a new file over the old one is seen too; a refused reload is logged
/// and changes nothing. The setting is read on each check, so a reload can turn it on or off.
/// Polling: inotify is not reachable through Foundation on Linux, and a `stat` a second is free.
struct ConfigFileWatcher: Service {
    let gateway: Gateway
    var interval: Duration = .seconds(1)

    func run() async {
        let path = gateway.config.source
        guard path != ConfigLoader.embeddedSource else { return }
        var last = FileStamp(path: path)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = FileStamp(path: path)
            guard now != last, now != nil else { continue }
            last = now
            guard gateway.applied.withLock({ $0.server.watchConfig }) else { continue }
            gateway.logger.info("config file changed: reloading", metadata: ["source": "\(path)"])
            do throws(ConfigReloadError) {
                _ = try await gateway.reloadConfig()
            } catch {
                gateway.logger.error("config reload refused", metadata: ["error": "\(error.message)", "code": "\(error.code.rawValue)"])
            }
        }
    }
}
