import Foundation
@testable import HostRuntime
import Logging
import PluginKit
import Testing
import TestSupport
import TokenHubCore

@Suite("Result recorder: a stalled store cannot grow the queue without bound")
struct ResultRecorderTests {
    @Test("with the store's writes stuck, rows past the cap are dropped and counted, never queued")
    func boundedQueue() async throws {
        let library = try PluginLibrary.load(path: try await CPluginBuilder.build("failing_store"))
        let store = try await StoreInstance.start(library: library, name: "failing", configJSON: Array("{}".utf8), services: FakeServices())
        let recorder = ResultRecorder(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), maxQueuedRows: 100)
        recorder.attach(store)
        func result(_ index: Int) -> LogResult {
            LogResult(requestID: "req-\(index)", apiKeyID: "", kind: "chat", mode: "normal", output: ChatOutput(), dispatcher: "test")
        }
        _ = recorder.record(result(0))
        // The first row is taken into a batch the store never completes.
        try await Task.sleep(for: .milliseconds(300))
        for index in 1...300 { _ = recorder.record(result(index)) }
        #expect(recorder.dropCount == 200, "dropped \(recorder.dropCount) of 300 with a cap of 100")
    }
}
