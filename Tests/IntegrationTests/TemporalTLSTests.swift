import Foundation
import Testing
import TestSupport

/// `temporal.tls`: the connection to Temporal speaks TLS when configured. Checked on the
/// wire: a listener records the first bytes TokenHub sends it (a TLS ClientHello starts with
/// record type 0x16; plaintext gRPC with the HTTP/2 preface "PRI *").
@Suite("Temporal TLS settings", .serialized)
struct TemporalTLSTests {
    /// Starts a listener that prints the hex of the first bytes of its first connection.
    func recorder() throws -> (BackgroundProcess, Int) {
        let script = """
        import socket,sys
        s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8)
        print(s.getsockname()[1], flush=True)
        c,_=s.accept(); c.settimeout(10)
        print(c.recv(5).hex(), flush=True)
        """
        let listener = try BackgroundProcess(python: script)
        return (listener, Int(listener.readOutput()) ?? 0)
    }

    func firstBytes(tls: String) async throws -> String {
        let (listener, port) = try recorder()
        defer { listener.stop() }
        let config = try writeConfig("""
        temporal:
          enabled: true
          host: 127.0.0.1:\(port)
        \(tls)
        \(echoRegistryYAML)
        """)
        let server = try await RunningTokenhub.start(configPath: config)
        defer { server.stop() }
        _ = try? await HTTPTestClient(baseURL: server.baseURL).post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
        return listener.readOutput()
    }

    @Test("with temporal.tls the first bytes on the wire are a TLS handshake; without, the HTTP/2 preface")
    func tlsOnTheWire() async throws {
        let directory = try TestPaths.makeTemporaryDirectory("tls")
        let ca = directory.appendingPathComponent("ca.pem").path
        let key = directory.appendingPathComponent("ca.key").path
        let made = try await Subprocess.running("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", ca,
                                                       "-days", "1", "-subj", "/CN=tokenhub-test-ca"])
        #expect(made.status == 0, "\(made.stderr)")
        let withTLS = try await firstBytes(tls: "  tls: {ca_file: \(ca)}")
        #expect(withTLS.hasPrefix("1603"), "first bytes \(withTLS)")
        let plain = try await firstBytes(tls: "")
        #expect(plain == "505249202a", "first bytes \(plain) (expected \"PRI * \")")
    }

    @Test("temporal.tls: an unreadable file or a certificate without its key is a config error naming the key")
    func tlsConfigErrors() async throws {
        let missing = try writeConfig("temporal:\n  tls: {ca_file: /nonexistent/ca.pem}\n")
        let first = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", missing])
        #expect(first.status == 1)
        #expect(first.stderr.contains("temporal.tls.ca_file: cannot read /nonexistent/ca.pem"), "\(first.stderr)")
        let file = try writeConfig("x: 1\n")
        let half = try writeConfig("temporal:\n  tls: {cert_file: \(file)}\n")
        let second = try await Subprocess.running(TestPaths.tokenhub.path, ["check-config", "--config", half])
        #expect(second.status == 1)
        #expect(second.stderr.contains("mTLS needs both cert_file and key_file"), "\(second.stderr)")
    }
}
