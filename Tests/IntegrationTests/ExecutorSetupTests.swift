import Foundation
import Testing
import TestSupport

/// `ExecutorSetup` hooks the concurrency runtime through private symbols
/// (`swift_task_enqueueGlobal_hook`, `swift_job_run`). If a toolchain changes them, or the
/// compiler-version guard excludes the toolchain, the gateway quietly falls back to Swift's own
/// executor; this test makes that loud.
@Suite("The event-loop executor hook")
struct ExecutorSetupTests {
    @Test("tokenhub serve runs Swift concurrency on NIO's event loops with generic isolation, and serves through it")
    func hookInstalled() async throws {
        let server = try await RunningTokenhub.start(configPath: try writeConfig("dispatch: {chain: [DirectDispatch]}\n\(echoRegistryYAML)"))
        let answer = try await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"hi"}]}}"#)
        #expect(answer.status == 200)
        #expect(await server.stopped() == 0)
        #expect(server.log.contains("executor: Swift concurrency runs on NIO's") && server.log.contains("generic isolation"),
                """
                ExecutorSetup did not install its hook on this toolchain. It was checked against Swift 6.0 to 6.3's \
                runtime; check swift_task_enqueueGlobal_hook's signature, swift_job_run and the generic executor's \
                layout on this one, then widen the #if compiler range in ExecutorSetup.install. Startup log:
                \(server.log.prefix(600))
                """)
    }
}
