/// The request ids recorded most recently, so that a result is recorded once per request id
/// even when both the host and a plugin record it (a 1.2 plugin that still calls
/// `host_log_result`, a Temporal workflow's log activity, a late answer after a timeout).
///
/// Bounded: it holds the hashes of the last `capacity` ids, oldest forgotten first. A repeat
/// older than that is still kept once by the store (one row per request id); only telemetry
/// could see it twice. A pure value: the recorder keeps it behind its lock.
struct RecentRequestIDs {
    private var members: Set<Int> = []
    private var order: [Int]
    private var next = 0
    let capacity: Int

    init(capacity: Int = 65_536) {
        self.capacity = max(1, capacity)
        order = []
        order.reserveCapacity(self.capacity)
    }

    /// Adds `id`; false when it was already among the recent ones.
    mutating func insert(_ id: String) -> Bool {
        // A 64-bit hash, not the string: the set stays a few bytes per id whatever the ids' length.
        let hash = id.hashValue
        guard members.insert(hash).inserted else { return false }
        if order.count < capacity {
            order.append(hash)
        } else {
            members.remove(order[next])
            order[next] = hash
            next = (next + 1) % capacity
        }
        return true
    }
}
