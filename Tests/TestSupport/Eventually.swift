/// Polls `condition` until it holds or `timeout` passes, sleeping `every` in between; returns
/// whether it held. For effects a test cannot await directly (a signal handled later, a
/// connection closed by another thread); the caller expects on the result.
public func eventually(timeout: Duration = .seconds(2), every interval: Duration = .milliseconds(10),
                       _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
