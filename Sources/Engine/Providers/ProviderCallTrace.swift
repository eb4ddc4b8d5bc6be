/// The W3C trace context provider calls carry: the engine binds the request's `traceparent`
/// around each attempt, and `HTTPTransport` sends it as the `traceparent` header. A task-local
/// rather than a parameter, so adapters need not pass it through.
enum ProviderCallTrace {
    /// The `traceparent` header value for calls made by this task; "" for none.
    @TaskLocal static var traceparent = ""
}
