import Foundation
import Testing
import TestSupport
import TokenHubCore

/// The admin console at /admin/ui/ in a real browser (headless Chromium through Selenium:
/// `Tests/Python/console_browser.py`), against `tokenhub serve` with a SQLite store.
@Suite("Admin console", .serialized)
struct ConsoleTests {
    static let token = "console-admin-token-0123456789ab"

    @Test("the console's assets are served with a strict Content-Security-Policy and no token")
    func assets() async throws {
        let server = try await RunningTokenhub.start(configPath: try writeConfig("server: {admin_token: \(Self.token)}\ndispatch: {chain: [DirectDispatch]}\n\(echoRegistryYAML)"))
        defer { server.stop() }
        let client = HTTPTestClient(baseURL: server.baseURL)
        for (path, type) in [("/admin/ui/", "text/html"), ("/admin/ui", "text/html"), ("/admin/ui/app.js", "text/javascript"), ("/admin/ui/views.js", "text/javascript"), ("/admin/ui/app.css", "text/css")] {
            let answer = try await client.get(path)
            #expect(answer.status == 200, "\(path)")
            #expect(answer.header("Content-Type")?.hasPrefix(type) == true, "\(path)")
            let policy = answer.header("Content-Security-Policy") ?? ""
            #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'") && !policy.contains("unsafe"), "\(path): \(policy)")
            #expect(answer.header("X-Content-Type-Options") == "nosniff")
        }
        let page = String(decoding: try await client.get("/admin/ui/").body, as: UTF8.self)
        #expect(!page.contains("<script>") && !page.contains(" on") && !page.contains("style="), "no inline script, handler or style")
        #expect(try await client.get("/admin/ui/missing.js").status == 404)
    }

    @Test("in headless Chromium: sign in, create a key and see it once, its chats in logs and overview, disable it, a model form with a validation error, a rejected reload, no markup executed, no console errors, phone width")
    func browser() async throws {
        let database = try TestPaths.makeTemporaryDirectory("console").appendingPathComponent("tokenhub.db").path
        let config = try writeConfig("""
        server: {require_api_key: true, admin_token: \(Self.token)}
        dispatch: {chain: [DirectDispatch]}
        store: {plugin: SQLiteStore, config: {path: \(database)}}
        providers: [{id: echo, type: echo}]
        models: [{id: echo-1, provider: echo}]
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        defer { server.stop() }
        let screenshots = TestPaths.packageRoot.appendingPathComponent(".build/test-artifacts/console")
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Python/console_browser.py").path
        let run = try await Subprocess.running("/usr/bin/env", ["python3", script, server.baseURL, Self.token, config, screenshots.path])
        #expect(run.status == 0, "\(run.stderr)\n\(run.stdout)")
        let seen = try JSONValue.parse(Array(run.stdout.utf8))
        #expect((seen["overview_requests"]?.numberValue ?? 0) >= 3)
        #expect(seen["console_errors"]?.numberValue == 0)
        for name in ["sign-in", "keys-created", "logs", "overview", "registry-validation", "logs-xss", "config-rejected", "overview-phone", "keys-phone"] {
            #expect(FileManager.default.fileExists(atPath: screenshots.appendingPathComponent("\(name).png").path), "screenshot \(name)")
        }
    }
}
