import TokenHubCore

/// One activity attempt as the handler sees it.
public struct ActivityAttempt: Sendable {
    /// The activity's single JSON argument.
    public var input: JSONValue
    /// 1 for the first attempt.
    public var attempt: Int
    /// The workflow that scheduled it.
    public var workflowID: String
    /// The activity ID within that workflow.
    public var activityID: String
}

/// An activity's failure. `nonRetryable` failures are final; others may be retried by the
/// server under the activity's retry policy.
public struct ActivityFailure: Error, Sendable {
    /// The failure type that retry policies match (`non_retryable_error_types`).
    public var type: String
    /// What went wrong.
    public var message: String
    /// True when retrying cannot help.
    public var nonRetryable: Bool

    /// Creates a failure.
    public init(type: String, _ message: String, nonRetryable: Bool) {
        self.type = type
        self.message = message
        self.nonRetryable = nonRetryable
    }
}

/// Runs one activity attempt and returns its JSON result.
public typealias ActivityHandler = @Sendable (ActivityAttempt) async throws(ActivityFailure) -> JSONValue
