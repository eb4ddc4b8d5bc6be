import GRPCCore
import NIOCore
import GRPCNIOTransportHTTP2Posix
import TemporalProto

/// One gRPC connection to a Temporal frontend, shared by the client and the worker.
///
/// THREAD: every method may be called concurrently from any task.
/// OWNERSHIP: `close()` ends the connection; calls after it fail with `.unavailable`.
public final class TemporalConnection: Sendable {
    /// The namespace every call uses.
    public let namespace: String
    /// Who this process is in Temporal's history (`pid@host`).
    public let identity: String
    /// `host:port` as configured.
    public let target: String

    let service: WorkflowService.Client<HTTP2ClientTransport.Posix>
    private let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    private let connectionTask: Task<Void, Never>

    /// Long polls: the server holds a task poll up to 60 s and needs a deadline of ≥ 2 s.
    static let pollTimeout: Duration = .seconds(70)
    /// Every other call.
    static let callTimeout: Duration = .seconds(10)
    /// Histories and payloads may exceed gRPC's default 4 MiB.
    static let maxResponseBytes = 64 * 1024 * 1024

    /// Opens a connection to `target` (`host:port`), over TLS when `tls` is set; no I/O happens
    /// until the first call.
    /// - Throws: `.invalidArgument` when the target is not `host:port`.
    public init(target: String, namespace: String, identity: String, tls: TemporalTLS? = nil) throws(TemporalError) {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]),
              colon != target.startIndex else {
            throw TemporalError(.invalidArgument, "temporal.host: expected host:port, got \"\(target)\"")
        }
        var host = String(target[..<colon])
        // The dev server listens on IPv4 loopback only; "localhost" may resolve to ::1 first.
        if host == "localhost" { host = "127.0.0.1" }
        let resolvable: any ResolvableTarget = host.split(separator: ".").count == 4 && host.allSatisfy({ $0.isNumber || $0 == "." })
            ? ResolvableTargets.IPv4.ipv4(host: host, port: port)
            : ResolvableTargets.DNS.dns(host: host, port: port)
        var config = HTTP2ClientTransport.Posix.Config.defaults
        // Reconnect quickly once the server is back: the circuit breaker, not the transport,
        // decides how often requests try.
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(2), multiplier: 1.6, jitter: 0.2)
        config.connection.maxIdleTime = nil
        config.channelDebuggingCallbacks.onCreateTCPConnection = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(PingResponder(), position: .first)
            }
        }
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(target: resolvable, transportSecurity: tls?.transportSecurity ?? .plaintext, config: config)
        } catch {
            throw TemporalError(.invalidArgument, "temporal.host \(target): \(error)")
        }
        let grpc = GRPCClient(transport: transport)
        self.grpc = grpc
        self.service = WorkflowService.Client(wrapping: grpc)
        self.namespace = namespace
        self.identity = identity
        self.target = target
        connectionTask = Task { try? await grpc.runConnections() }
    }

    /// Stops the connection; in-flight calls finish or fail.
    public func close() {
        grpc.beginGracefulShutdown()
    }

    /// Options for a call: `waitForReady` false so an unreachable server fails the call at
    /// once (the caller falls back) instead of queueing it until the deadline.
    static func options(timeout: Duration, waitForReady: Bool = false) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = waitForReady
        options.maxResponseMessageBytes = maxResponseBytes
        return options
    }

    /// Runs one unary call, mapping gRPC failures to `TemporalError`.
    func call<Response: Sendable>(
        _ name: String, _ body: () async throws -> Response
    ) async throws(TemporalError) -> Response {
        do {
            return try await body()
        } catch let error as TemporalError {
            throw error
        } catch {
            throw TemporalError(rpc: error, call: name)
        }
    }

    /// The server's version; the cheapest call that proves the server answers.
    public func serverVersion() async throws(TemporalError) -> String {
        try await call("GetSystemInfo") {
            try await service.getSystemInfo(.init(), options: Self.options(timeout: Self.callTimeout)).serverVersion
        }
    }

    /// Checks that the namespace exists; with `register`, creates it when missing
    /// (retention 24 h), as `temporal server start-dev --namespace` would.
    public func ensureNamespace(register: Bool) async throws(TemporalError) {
        var describe = Temporal_Api_Workflowservice_V1_DescribeNamespaceRequest()
        describe.namespace = namespace
        do {
            _ = try await call("DescribeNamespace") {
                try await service.describeNamespace(describe, options: Self.options(timeout: Self.callTimeout))
            }
        } catch where error.code == .notFound && register {
            var request = Temporal_Api_Workflowservice_V1_RegisterNamespaceRequest()
            request.namespace = namespace
            request.description_p = "TokenHub workflows"
            request.workflowExecutionRetentionPeriod = .init(seconds: 24 * 3600)
            do {
                _ = try await call("RegisterNamespace") {
                    try await service.registerNamespace(request, options: Self.options(timeout: Self.callTimeout))
                }
            } catch where error.code == .alreadyStarted {
                // Another instance registered it first.
            }
        }
    }
}

extension TemporalTLS {
    /// The transport security these settings describe.
    var transportSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        .tls { tls in
            if let caFile { tls.trustRoots = .certificates([.file(path: caFile, format: .pem)]) }
            if let certFile, let keyFile {
                tls.certificateChain = [.file(path: certFile, format: .pem)]
                tls.privateKey = .file(path: keyFile, format: .pem)
            }
        }
    }
}
