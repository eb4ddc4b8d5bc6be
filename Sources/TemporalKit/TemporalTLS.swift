/// TLS for the connection to Temporal (Temporal Cloud, or a self-hosted cluster with TLS or
/// mTLS): PEM files, read when the connection is made.
public struct TemporalTLS: Sendable, Hashable {
    /// CA certificates the server's certificate must chain to; nil: the system's roots.
    public var caFile: String?
    /// The client certificate chain for mTLS; needs `keyFile`.
    public var certFile: String?
    /// The client certificate's private key for mTLS; needs `certFile`.
    public var keyFile: String?

    /// TLS with the given files (all optional: none means system roots, no client certificate).
    /// The server's certificate is verified against the host of `host:port` (sent as SNI).
    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }

    /// The settings as the TemporalDispatch plugin's `tls` config object.
    public var json: [String: String] {
        var members: [String: String] = [:]
        if let caFile { members["ca_file"] = caFile }
        if let certFile { members["cert_file"] = certFile }
        if let keyFile { members["key_file"] = keyFile }
        return members
    }
}
