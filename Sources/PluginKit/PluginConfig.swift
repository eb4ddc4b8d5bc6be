import TokenHubCore

/// A Swift plugin's `config` object, read the same way by every plugin: JSON (empty for `{}`),
/// an object, no key but `keys`. Errors name `config.<key>` and what the plugin takes.
public enum PluginConfig {
    /// The fields of `configJSON`, or an error naming the unknown key or the non-object.
    public static func fields(_ configJSON: [UInt8], plugin: String, keys: [String]) throws -> PayloadFields {
        let config = try JSONValue.parse(configJSON.isEmpty ? Array("{}".utf8) : configJSON)
        guard let members = config.objectValue else { throw PluginError("config: expected an object, got \(config.typeName)") }
        if let unknown = members.keys.sorted().first(where: { !keys.contains($0) }) {
            let takes = keys.isEmpty ? "takes no settings" : "takes \(keys.joined(separator: ", "))"
            throw PluginError("config.\(unknown): unknown key (\(plugin) \(takes))")
        }
        return try PayloadFields(config, path: "config")
    }
}
