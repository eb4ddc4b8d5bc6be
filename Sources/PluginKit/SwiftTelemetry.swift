import PluginAPI

/// A telemetry plugin written in Swift. PluginKit turns it into the C `tokenhub_telemetry_vtable`.
///
/// THREAD: the `observe` methods run concurrently from any thread, on the request path: they
/// must return promptly (update counters under a short lock; never wait on I/O). `scrape` runs
/// concurrently with them; `stop` once, last.
public protocol SwiftTelemetry: AnyObject, Sendable {
    /// Validates `configJSON` (the plugin's `config` object); no I/O.
    init(host: HostTable, configJSON: [UInt8]) throws
    /// One request's LogResult JSON (borrowed bytes already copied into the array).
    func observe(resultJSON: [UInt8])
    /// One metric recorded through `host_metric_record`.
    func observe(metric kind: MetricKind, name: String, labelsJSON: String, value: Double)
    /// One event published through `host_emit_event` (default: ignored).
    func observe(eventJSON: [UInt8])
    /// The plugin's metrics in Prometheus text exposition format 0.0.4.
    func scrape() async -> String
    /// Flushes and stops.
    func stop() async
}

extension SwiftTelemetry {
    /// Ignores events.
    public func observe(eventJSON: [UInt8]) {}
}

extension PluginExport {
    nonisolated(unsafe) static let telemetryVTable: UnsafeMutablePointer<tokenhub_telemetry_vtable> = {
        let table = UnsafeMutablePointer<tokenhub_telemetry_vtable>.allocate(capacity: 1)
        table.initialize(to: tokenhub_telemetry_vtable(
            struct_size: MemoryLayout<tokenhub_telemetry_vtable>.size,
            create: swiftTelemetryCreate,
            on_result: swiftTelemetryOnResult,
            on_metric: swiftTelemetryOnMetric,
            on_event: swiftTelemetryOnEvent,
            on_scrape: swiftTelemetryOnScrape,
            stop: swiftTelemetryStop,
            destroy: swiftTelemetryDestroy
        ))
        return table
    }()
}

/// The object behind a `tokenhub_instance *` of a Swift telemetry plugin.
final class SwiftTelemetryInstance: Sendable {
    let telemetry: any SwiftTelemetry
    init(_ telemetry: any SwiftTelemetry) { self.telemetry = telemetry }

    static func from(_ instance: OpaquePointer?) -> any SwiftTelemetry {
        Unmanaged<SwiftTelemetryInstance>.fromOpaque(UnsafeRawPointer(instance!)).takeUnretainedValue().telemetry
    }
}

private let swiftTelemetryCreate: @convention(c) (
    UnsafePointer<tokenhub_host>?, tokenhub_slice, UnsafeMutablePointer<OpaquePointer?>?, tokenhub_error_buffer
) -> tokenhub_status = { host, config, outInstance, errorBuffer in
    guard let host, let outInstance else {
        errorBuffer.write("create: host table and out_instance must not be NULL")
        return PluginStatus.invalidArgument.code
    }
    guard let type = PluginExport.registered.telemetry else {
        errorBuffer.write("create: this library registered no telemetry type")
        return PluginStatus.notSupported.code
    }
    do {
        let telemetry = try type.init(host: HostTable(host), configJSON: config.bytes)
        outInstance.pointee = OpaquePointer(Unmanaged.passRetained(SwiftTelemetryInstance(telemetry)).toOpaque())
        return PluginStatus.ok.code
    } catch {
        errorBuffer.write("\(error)")
        return PluginStatus.invalidArgument.code
    }
}

private let swiftTelemetryOnResult: @convention(c) (OpaquePointer?, tokenhub_slice) -> Void = { instance, result in
    SwiftTelemetryInstance.from(instance).observe(resultJSON: result.bytes)
}

private let swiftTelemetryOnMetric: @convention(c) (OpaquePointer?, tokenhub_metric_kind, tokenhub_slice, tokenhub_slice, Double) -> Void = {
    instance, kind, name, labels, value in
    guard let kind = MetricKind(code: kind) else { return }  // a kind this ABI does not define
    SwiftTelemetryInstance.from(instance).observe(metric: kind, name: name.string, labelsJSON: labels.string, value: value)
}

private let swiftTelemetryOnEvent: @convention(c) (OpaquePointer?, tokenhub_slice) -> Void = { instance, event in
    SwiftTelemetryInstance.from(instance).observe(eventJSON: event.bytes)
}

private let swiftTelemetryOnScrape: @convention(c) (OpaquePointer?, tokenhub_completion_fn?, UnsafeMutableRawPointer?) -> Void = {
    instance, done, userData in
    let telemetry = SwiftTelemetryInstance.from(instance)
    completeLater(done, userData) { PluginReply(status: .ok, result: Array(await telemetry.scrape().utf8)) }
}

private let swiftTelemetryStop: @convention(c) (OpaquePointer?, tokenhub_completion_fn?, UnsafeMutableRawPointer?) -> Void = {
    instance, done, userData in
    let telemetry = SwiftTelemetryInstance.from(instance)
    completeLater(done, userData) {
        await telemetry.stop()
        return PluginReply(status: .ok)
    }
}

private let swiftTelemetryDestroy: @convention(c) (OpaquePointer?) -> Void = { instance in
    guard let instance else { return }
    Unmanaged<SwiftTelemetryInstance>.fromOpaque(UnsafeRawPointer(instance)).release()
}
