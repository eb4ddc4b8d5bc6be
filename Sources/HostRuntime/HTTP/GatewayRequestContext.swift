import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the peer address the
/// rate limiter keys on.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The client's socket address.
    public let remoteAddress: SocketAddress?

    /// Builds the context from the accepted channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
