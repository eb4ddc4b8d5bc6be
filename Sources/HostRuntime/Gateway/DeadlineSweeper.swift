import ServiceLifecycle

/// Answers plugin calls whose deadline passed with a timeout, so a dispatcher that never
/// calls back cannot hang a request.
struct DeadlineSweeper: Service {
    var interval: Duration = .milliseconds(100)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            PendingReplies.shared.expire()
        }
    }
}
