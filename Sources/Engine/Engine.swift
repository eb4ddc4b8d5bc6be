import Foundation
import TokenHubCore

/// Routes requests to models and calls providers. Knows nothing of plugins or HTTP.
///
/// THREAD: all methods may be called concurrently.
public final class Engine: Sendable {
    /// The providers it routes across.
    public let providers: [ProviderSpec]
    /// The models it routes across.
    public let models: [ModelSpec]

    /// Creates an engine over a registry.
    public init(providers: [ProviderSpec], models: [ModelSpec]) {
        self.providers = providers
        self.models = models
    }

    /// The models a client may name (enabled, with an enabled provider).
    public var usableModels: [ModelSpec] {
        let enabledProviders = Set(providers.filter(\.enabled).map(\.id))
        return models.filter { $0.enabled && enabledProviders.contains($0.providerID) }
    }

    /// Routes `input` and sends it; a provider failure is a ChatOutput with `error` set.
    public func routeAndSend(_ input: ChatInput) async -> ChatOutput {
        let started = ContinuousClock.now
        let plan = Router.plan(request: input.request, policy: input.policy, providers: providers, models: models, health: [:])
        guard let best = plan.candidates.first else {
            let reasons = plan.skipped.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            return ChatOutput(
                error: "no eligible model" + (reasons.isEmpty ? " (no models configured)" : " (\(reasons.joined(separator: "; ")))"),
                errorClass: .noEligibleModel)
        }
        let decision = Decision(modelID: best.model.id, providerID: best.provider.id, estimatedCostUSD: best.estimatedCostUSD, reason: best.reason)
        switch best.provider.type {
        case .echo:
            let response = EchoProvider.respond(to: input.request, model: best.model, requestID: input.requestID)
            return ChatOutput(decision: decision, response: response, latencyMs: elapsedMs(since: started))
        case .openai, .anthropic, .vllm:
            return ChatOutput(decision: decision, latencyMs: elapsedMs(since: started),
                              error: "provider type \(best.provider.type.rawValue) is not available in this build", errorClass: .fatal)
        }
    }

    private func elapsedMs(since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }
}
