import PluginAPI
import PluginKit

/// One telemetry instance created from a plugin library, seen from the host.
///
/// Lifecycle: `create` → `observe`… / `scrape`… → `stop` (then destroyed).
/// THREAD: every method but `stop` may run concurrently; `stop` runs once, last.
public final class TelemetryInstance: PluginInstance<tokenhub_telemetry_vtable> {
    /// Creates an instance; any failure is a `PluginLoadError`.
    public static func create(
        library: PluginLibrary, name: String, configJSON: [UInt8], services: any HostServices
    ) throws(PluginLoadError) -> TelemetryInstance {
        let vtable = try library.factory(library.telemetryVTable, kind: "telemetry", instanceName: name)
        let (created, hostTable) = try library.createInstance(vtable.pointee.create, name: name, configJSON: configJSON, services: services)
        let telemetry = TelemetryInstance(name: name, library: library, vtable: vtable, instance: created, hostTable: hostTable,
                                          destroy: vtable.pointee.destroy)
        telemetry.markStarted()  // a telemetry plugin has no start: it starts in create
        return telemetry
    }

    /// Hands the plugin one request's LogResult JSON; returns when the plugin has copied it.
    public func observe(resultJSON: [UInt8]) {
        admittedSync { withSlice(resultJSON) { vtable.pointee.on_result(instance, $0) } }
    }

    /// Hands the plugin one metric recorded through `host_metric_record`.
    public func observe(metric kind: MetricKind, name: String, labelsJSON: String, value: Double) {
        admittedSync {
            withSlice(name) { nameSlice in
                withSlice(labelsJSON) { vtable.pointee.on_metric(instance, kind.rawValue, nameSlice, $0, value) }
            }
        }
    }

    /// Hands the plugin one event JSON published through `host_emit_event`.
    public func observe(eventJSON: [UInt8]) {
        admittedSync { withSlice(eventJSON) { vtable.pointee.on_event(instance, $0) } }
    }

    /// The plugin's metrics in Prometheus text format.
    public func scrape(deadline: ContinuousClock.Instant = .now + .seconds(10)) async -> PluginReply {
        let onScrape = vtable.pointee.on_scrape!
        return await admitted {
            await PendingReplies.shared.call(label: CallLabel(name, "scrape"), deadline: deadline) { done, userData in
                onScrape(instance, done, userData)
            }
        }
    }

    /// Refuses new observations, waits for the running ones, stops and destroys the instance;
    /// every wait ends by `deadline`.
    public func stop(deadline: ContinuousClock.Instant?) async {
        let stop = vtable.pointee.stop!
        await shutDown(deadline: deadline) {
            await PendingReplies.shared.call(label: CallLabel(name, "stop"), deadline: deadline) { done, userData in
                stop(instance, done, userData)
            }
        }
    }
}
