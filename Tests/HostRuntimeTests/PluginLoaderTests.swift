import Foundation
import HostRuntime
import Testing
import TestSupport

@Suite("Plugin loader: every failure names the file and the problem")
struct PluginLoaderTests {
    func loadError(_ path: String) -> PluginLoadError? {
        do {
            _ = try PluginLibrary.load(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test("a C plugin built against the header alone loads, with its descriptor")
    func loadsCPlugin() async throws {
        let library = try PluginLibrary.load(path: try await CPluginBuilder.build("relay_dispatch"))
        #expect(library.name == "c-relay")
        #expect(library.version == "1.0.0")
        #expect(library.abiVersion == "1.3")
        #expect(library.kinds == [.dispatch])
    }

    @Test("the Swift DirectDispatch plugin loads from the build directory")
    func loadsSwiftPlugin() throws {
        let path = PluginResolver.path(for: "DirectDispatch", directory: TestPaths.buildProducts.path)
        let library = try PluginLibrary.load(path: path)
        #expect(library.name == "direct")
        #expect(library.kinds == [.dispatch])
    }

    @Test("a plugin built against ABI 1.0 loads in this 1.1 host; fields past its struct_size are never read")
    func olderMinorLoads() async throws {
        let library = try PluginLibrary.load(path: try await CPluginBuilder.build("abi_1_0"))
        #expect(library.abiVersion == "1.0")
        #expect(library.kinds == [.dispatch], "the garbage `store` pointer past struct_size was ignored")
    }

    @Test("the SQLiteStore plugin offers the store kind")
    func storePluginLoads() throws {
        let library = try PluginLibrary.load(path: PluginResolver.path(for: "SQLiteStore", directory: TestPaths.buildProducts.path))
        #expect(library.name == "sqlite")
        #expect(library.kinds == [.store])
        #expect(library.abiVersion == "1.3")
    }

    @Test("a missing file is `not found`")
    func notFound() {
        let failure = loadError("/nonexistent/libNope.so")
        #expect(failure?.code == .notFound)
        #expect(failure?.description == "plugin /nonexistent/libNope.so: not found: no such file")
    }

    @Test("a file that is not a shared object is `not a loadable shared library`")
    func notSharedObject() throws {
        let path = try TestPaths.makeTemporaryDirectory().appendingPathComponent("libtext.so").path
        try "just text".write(toFile: path, atomically: true, encoding: .utf8)
        let failure = loadError(path)
        #expect(failure?.code == .notLoadable)
        #expect(failure?.path == path)
        #expect(failure?.detail.isEmpty == false)
    }

    @Test("a library without the entry symbol is `missing entry symbol`")
    func missingEntry() async throws {
        let failure = loadError(try await CPluginBuilder.build("no_entry"))
        #expect(failure?.code == .missingEntrySymbol)
        #expect(failure?.detail.contains("tokenhub_plugin_entry") == true)
    }

    @Test("a different ABI major is refused with both versions")
    func abiMismatch() async throws {
        let failure = loadError(try await CPluginBuilder.build("wrong_abi"))
        #expect(failure?.code == .abiMajorMismatch)
        #expect(failure?.detail == "plugin has 2.0, host has 1.3")
    }

    @Test("a plugin configured as a dispatcher that offers none is `kind not offered`")
    func kindNotOffered() async throws {
        let library = try PluginLibrary.load(path: try await CPluginBuilder.build("no_dispatch"))
        #expect(library.kinds.isEmpty)
        #expect(throws: PluginLoadError.self) {
            try DispatcherInstance.create(library: library, name: "x", configJSON: Array("{}".utf8), services: FakeServices())
        }
        do {
            _ = try DispatcherInstance.create(library: library, name: "x", configJSON: Array("{}".utf8), services: FakeServices())
        } catch {
            #expect(error.code == .kindNotOffered)
            #expect(error.detail.contains("offers no kind"))
        }
    }

    @Test("create failing carries the plugin's own message")
    func createFails() async throws {
        let library = try PluginLibrary.load(path: try await CPluginBuilder.build("create_fails"))
        do {
            _ = try DispatcherInstance.create(library: library, name: "picky", configJSON: Array("{}".utf8), services: FakeServices())
            Issue.record("create should have failed")
        } catch {
            #expect(error.code == .createFailed)
            #expect(error.detail == "config.endpoint: required setting is missing")
        }
    }

    @Test("loading the same library twice is harmless (RTLD_NODELETE, one image)")
    func loadTwice() async throws {
        let path = try await CPluginBuilder.build("relay_dispatch")
        let first = try PluginLibrary.load(path: path)
        let second = try PluginLibrary.load(path: path)
        #expect(first.name == second.name)
    }
}
