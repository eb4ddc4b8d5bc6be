import ServiceLifecycle
import TokenHubCore

/// Follows changes other instances make to a shared store: every `interval` it reads the
/// store's revision (a counter every key, registry and settings write increments) and, when it
/// moved, reloads providers, models and the routing config from the store. Registry and
/// routing changes made on one instance therefore reach every other within one interval plus
/// a reload. API keys need nothing here: each request reads its key from the store.
///
/// Polling: one indexed single-row read per interval costs the database nothing, and works on
/// every backend (SQLite files shared by two processes too), where LISTEN/NOTIFY is
/// PostgreSQL's alone.
struct StoreRevisionWatcher: Service {
    let gateway: Gateway
    var interval: Duration = .milliseconds(250)

    func run() async {
        var seen: (store: ObjectIdentifier, revision: Double)?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard let store = gateway.plugins.store else { seen = nil; continue }
            let reply = await store.call("store.revision", Array("{}".utf8))
            guard reply.status == .ok, let revision = (try? JSONValue.parse(reply.result))?["revision"]?.numberValue else { continue }
            let identity = ObjectIdentifier(store)
            defer { seen = (identity, revision) }
            // The first reading of a store also reloads: a change made between the registry's
            // load and this reading would otherwise be taken for the baseline.
            let changed = seen.map { $0.store == identity } ?? false
            if let last = seen, last.store == identity, last.revision == revision { continue }
            do throws(APIError) {
                // The first reading of a store also seeds it from the config (ids it lacks): a
                // store that was unreachable at start (`required: false`) was never seeded.
                let config = changed ? nil : gateway.applied.withLock { ($0.providers, $0.models) }
                try await gateway.registry.refreshFromStore(seeding: config)
                if changed { gateway.logger.info("registry changed in the store: reloaded", metadata: ["revision": "\(Int(revision))"]) }
            } catch {
                gateway.logger.error("cannot follow a registry change in the store", metadata: ["error": "\(error.message)"])
            }
        }
    }
}
