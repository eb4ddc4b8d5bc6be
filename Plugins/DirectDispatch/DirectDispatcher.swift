import PluginAPI
import PluginKit
import TokenHubCore

/// The default dispatcher and the fallback of every chain: runs the request in this
/// process through the host's engine. The host records the result (ABI 1.3), so this is a
/// pass-through: the input goes to `host_route_and_send` as it came.
final class DirectDispatcher: SwiftDispatcher {
    private let host: HostTable

    init(host: HostTable, configJSON: [UInt8]) throws {
        self.host = host
        _ = try PluginConfig.fields(configJSON, plugin: "DirectDispatch", keys: [])
    }

    func start() throws {}

    func chat(_ chatInputJSON: [UInt8]) async -> PluginReply {
        await host.routeAndSend(chatInputJSON)
    }

    func plan(_ orchestrationInputJSON: [UInt8]) async -> PluginReply {
        await host.orchestrate(orchestrationInputJSON)
    }

    /// Nothing of its own runs: the host drains requests before calling stop.
    func stop() async {}
}

/// The library's one exported symbol.
@_cdecl("tokenhub_plugin_entry")
public func tokenhubPluginEntry() -> UnsafePointer<tokenhub_plugin_descriptor> {
    PluginExport.descriptor(name: "direct", version: "0.2.0", dispatcher: DirectDispatcher.self)
}
