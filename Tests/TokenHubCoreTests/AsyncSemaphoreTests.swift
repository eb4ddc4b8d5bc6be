import Synchronization
import Testing
import TokenHubCore

final class Holders: Sendable {
    let counts = Mutex((now: 0, peak: 0))
}

@Suite struct AsyncSemaphoreTests {
    @Test func neverMoreHoldersThanSlots() async {
        let semaphore = AsyncSemaphore(2)
        let holders = Holders()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await semaphore.withPermit { () async -> Void in
                        holders.counts.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                        try? await Task.sleep(for: .milliseconds(2))
                        holders.counts.withLock { $0.now -= 1 }
                    }
                }
            }
        }
        #expect(holders.counts.withLock { $0.peak } == 2)
        #expect(holders.counts.withLock { $0.now } == 0)
    }
}
