import PluginKit

/// The ordered dispatchers of a generation. The first that does not answer
/// `TOKENHUB_ERR_UNAVAILABLE` serves the request; "unavailable" passes to the next.
public struct DispatchChain: Sendable {
    /// The dispatchers in order.
    public let dispatchers: [DispatcherInstance]

    /// Creates a chain.
    public init(_ dispatchers: [DispatcherInstance]) {
        self.dispatchers = dispatchers
    }

    /// What the chain did with one request.
    public struct Outcome: Sendable {
        /// The serving dispatcher's reply, or `.unavailable` when none served.
        public var reply: PluginReply
        /// The dispatcher that served, nil when none did.
        public var servedBy: String?
        /// Dispatchers that passed, with their reasons, in order.
        public var passed: [(name: String, reason: String)]
    }

    /// Offers a chat request (ChatInput JSON) down the chain.
    public func chat(_ input: [UInt8], deadline: ContinuousClock.Instant?) async -> Outcome {
        await offer { await $0.chat(input, deadline: deadline) }
    }

    /// Offers an orchestration (OrchestrationInput JSON) down the chain.
    public func plan(_ input: [UInt8], deadline: ContinuousClock.Instant?) async -> Outcome {
        await offer { await $0.plan(input, deadline: deadline) }
    }

    private func offer(_ send: (DispatcherInstance) async -> PluginReply) async -> Outcome {
        var passed: [(name: String, reason: String)] = []
        for dispatcher in dispatchers {
            let reply = await send(dispatcher)
            if reply.status != .unavailable {
                return Outcome(reply: reply, servedBy: dispatcher.name, passed: passed)
            }
            passed.append((dispatcher.name, reply.message))
        }
        let reasons = passed.map { "\($0.name): \($0.reason.isEmpty ? "unavailable" : $0.reason)" }
        let message = dispatchers.isEmpty
            ? "no dispatcher is configured"
            : "every dispatcher was unavailable (\(reasons.joined(separator: "; ")))"
        return Outcome(reply: .failure(.unavailable, message), servedBy: nil, passed: passed)
    }
}
