import TokenHubCore

/// Why one provider attempt failed, classified for failover.
public struct ProviderFailure: Error, Sendable, Hashable {
    /// The class that decides what the engine does next.
    public var errorClass: ErrorClass
    /// What happened, without secrets.
    public var message: String
    /// The upstream HTTP status, 0 when none (connection error, timeout).
    public var status: Int
    /// The provider's Retry-After, when it sent one.
    public var retryAfter: Duration?

    /// Creates a failure.
    public init(_ errorClass: ErrorClass, _ message: String, status: Int = 0, retryAfter: Duration? = nil) {
        self.errorClass = errorClass
        self.message = message
        self.status = status
        self.retryAfter = retryAfter
    }
}

/// A successful provider answer in OpenAI chat-completion shape, with the usage it reported.
public struct ProviderAnswer: Sendable, Hashable {
    /// The chat.completion object.
    public var response: JSONValue
    /// Prompt tokens the provider counted, nil when it did not say.
    public var inputTokens: Int?
    /// Completion tokens the provider counted, nil when it did not say.
    public var outputTokens: Int?
}

/// One piece of a streamed answer: an OpenAI `chat.completion.chunk` object.
public typealias StreamChunk = JSONValue

/// Speaks one provider's protocol. Adapters translate to and from OpenAI's shapes.
///
/// THREAD: all methods may be called concurrently.
public protocol ProviderAdapter: Sendable {
    /// Sends one non-streaming request.
    func send(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async -> Result<ProviderAnswer, ProviderFailure>

    /// Opens a stream. Failures before the first chunk are returned as `.failure` so the engine
    /// can fail over; after that, errors end the stream.
    func stream(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async
        -> Result<AsyncThrowingStream<StreamChunk, any Error>, ProviderFailure>
}
