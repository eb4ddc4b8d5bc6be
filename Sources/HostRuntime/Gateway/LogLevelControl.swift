import Logging
import Synchronization

/// `server.log_level`, changeable while serving: every logger made by
/// `LoggingSystem.bootstrapBackground` reads its level from here, so a config reload that
/// changes it applies to every line from then on.
public enum LogLevelControl {
    private static let level = Atomic<UInt8>(UInt8(Logger.Level.allCases.firstIndex(of: .info)!))

    /// Sets the level from its name (`server.log_level`, validated by the config reader).
    static func set(_ name: String) {
        if let level = Logger.Level(rawValue: name) { current = level }
    }

    /// The level every logger logs at.
    public static var current: Logger.Level {
        get { Logger.Level.allCases[Int(level.load(ordering: .relaxed))] }
        set { level.store(UInt8(Logger.Level.allCases.firstIndex(of: newValue)!), ordering: .relaxed) }
    }
}

/// A handler whose level is `LogLevelControl.current`; the lines go to `base`.
struct ControlledLevelLogHandler: LogHandler {
    var base: StreamLogHandler

    var logLevel: Logger.Level {
        get { LogLevelControl.current }
        set {}  // the level is the config's (`server.log_level`), set through LogLevelControl
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        base.log(event: event)
    }
}
