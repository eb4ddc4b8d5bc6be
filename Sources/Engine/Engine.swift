import Foundation
import Synchronization
import TokenHubCore
import UpstreamHTTP

/// Routes requests to models and calls providers, with failover and health tracking. Knows
/// nothing of plugins or HTTP serving.
///
/// THREAD: all methods may be called concurrently.
public final class Engine: Sendable {
    /// Provider health, fed by every attempt.
    public let health: HealthTracker

    /// Providers, models and their adapters, replaced as a whole: a request routes on the
    /// registry it started with, and the next request sees a replacement at once.
    struct Registry: Sendable {
        var providers: [ProviderSpec]
        var models: [ModelSpec]
        var adapters: [String: any ProviderAdapter]
    }
    private let registry: Mutex<Registry>

    /// The providers it routes across now.
    public var providers: [ProviderSpec] { registry.withLock { $0.providers } }
    /// The models it routes across now.
    public var models: [ModelSpec] { registry.withLock { $0.models } }

    /// One connection pool for every engine of the process (a config reload builds a new
    /// engine; it keeps the warm connections). Never shut down: it lives as long as the process.
    static let providerClient = UpstreamClient()

    /// One failover step: after a failed attempt, the engine retries the same model or moves
    /// to the next candidate.
    public struct Escalation: Sendable, Hashable {
        public var requestID: String
        /// `retry` or `switch`.
        public var action: String
        public var fromModel, fromProvider: String
        /// The model tried next (the same one for a retry).
        public var toModel, toProvider: String
        public var errorClass: String
        /// Attempts made so far.
        public var attempt: Int
        public var reason: String
    }

    /// Hears every failover step (for the event bus).
    private let onEscalation: @Sendable (Escalation) -> Void

    /// Creates an engine over a registry; `onHealthChange` hears provider state changes and
    /// `onEscalation` every failover step. Both run on the request's task and must not block.
    public init(providers: [ProviderSpec], models: [ModelSpec],
                onHealthChange: @escaping @Sendable (String, ProviderHealth.State) -> Void = { _, _ in },
                onEscalation: @escaping @Sendable (Escalation) -> Void = { _ in }) {
        self.health = HealthTracker(onChange: onHealthChange)
        self.onEscalation = onEscalation
        registry = Mutex(Self.registry(providers: providers, models: models))
    }

    /// Replaces the providers and models (an admin change); requests already routing finish
    /// on the registry they started with.
    public func replaceRegistry(providers: [ProviderSpec], models: [ModelSpec]) {
        let replacement = Self.registry(providers: providers, models: models)
        registry.withLock { $0 = replacement }
    }

    private static func registry(providers: [ProviderSpec], models: [ModelSpec]) -> Registry {
        let transport = HTTPTransport(client: providerClient)
        var adapters: [String: any ProviderAdapter] = [:]
        for provider in providers {
            switch provider.type {
            case .echo: adapters[provider.id] = EchoAdapter()
            case .openai, .vllm: adapters[provider.id] = OpenAIAdapter(provider: provider, transport: transport)
            case .anthropic: adapters[provider.id] = AnthropicAdapter(provider: provider, transport: transport)
            }
        }
        return Registry(providers: providers, models: models, adapters: adapters)
    }

    /// Lets in-flight provider calls end; the shared connection pool stays up for the process.
    public func shutdown() async {}

    /// The models a client may name (enabled, with an enabled provider).
    public var usableModels: [ModelSpec] {
        let current = registry.withLock { $0 }
        let enabledProviders = Set(current.providers.filter(\.enabled).map(\.id))
        return current.models.filter { $0.enabled && enabledProviders.contains($0.providerID) }
    }

    /// Ranks the eligible models for a request, with current health.
    public func plan(_ request: ChatRequest, policy: Policy) -> RoutePlan {
        let current = registry.withLock { $0 }
        return Router.plan(request: request, policy: policy, providers: current.providers, models: current.models, health: health.views())
    }

    /// Routes `input` and sends it with failover; a provider failure is a ChatOutput with
    /// `error` and `error_class` set, never a thrown error.
    public func routeAndSend(_ input: ChatInput) async -> ChatOutput {
        let started = ContinuousClock.now
        var attempts: [ProviderAttempt] = []
        let outcome = await withFailover(input, started: started, attempts: &attempts) { adapter, candidate, deadline in
            await adapter.send(input.request, model: candidate.model, deadline: deadline)
        }
        switch outcome {
        case .failure(let failed):
            var output = failed.output
            output.attempts = attempts
            return output
        case .success(let (answer, candidate, reason)):
            let inputTokens = answer.inputTokens ?? TokenEstimate.inputTokens(input.request)
            let cost = answer.outputTokens.map { TokenEstimate.cost(candidate.model, inputTokens: inputTokens, outputTokens: $0) }
                ?? candidate.estimatedCostUSD
            let decision = Decision(modelID: candidate.model.id, providerID: candidate.provider.id, estimatedCostUSD: cost, reason: reason)
            return ChatOutput(decision: decision, response: answer.response, latencyMs: Int(Self.milliseconds(.now - started)), attempts: attempts)
        }
    }

    /// A streamed completion the engine opened: what it chose, the provider calls it took to
    /// open it, and the chunks.
    public struct OpenedStream: Sendable {
        /// The model and provider streaming, and why they were chosen.
        public let decision: Decision
        /// Each provider call, in order; the last is the one streaming, its duration so far
        /// covering the opening only (the relay extends it to the stream's end).
        public let attempts: [ProviderAttempt]
        /// The provider's chunks in OpenAI's shape; ending the iteration cancels the call.
        public let chunks: AsyncThrowingStream<StreamChunk, any Error>
    }

    /// An open stream, or the failure output (with its provider calls). Streams fail over only
    /// before the first byte reaches the client.
    public func routeAndStream(_ input: ChatInput) async -> Result<OpenedStream, ChatOutputError> {
        var attempts: [ProviderAttempt] = []
        let outcome = await withFailover(input, started: .now, attempts: &attempts) { adapter, candidate, deadline in
            await adapter.stream(input.request, model: candidate.model, deadline: deadline)
        }
        switch outcome {
        case .failure(var failed):
            failed.output.attempts = attempts
            return .failure(failed)
        case .success(let (stream, candidate, reason)):
            let decision = Decision(modelID: candidate.model.id, providerID: candidate.provider.id, estimatedCostUSD: candidate.estimatedCostUSD, reason: reason)
            return .success(OpenedStream(decision: decision, attempts: attempts, chunks: stream))
        }
    }

    /// Tries the ranked candidates with the failover rules (`FailoverState`), recording every
    /// attempt's health, until one succeeds, the rules give up, or the deadline passes. Each
    /// provider call is appended to `attempts`, and carries the client's `traceparent`.
    private func withFailover<Value>(
        _ input: ChatInput, started: ContinuousClock.Instant, attempts: inout [ProviderAttempt],
        attempt: (any ProviderAdapter, RouteCandidate, ContinuousClock.Instant) async -> Result<Value, ProviderFailure>
    ) async -> Result<(Value, RouteCandidate, String), ChatOutputError> {
        // The policy's budget from now, but never past the request's own deadline (set once by
        // the host when the request arrived: a workflow's activity starting late gets less).
        var deadline = started + .milliseconds(input.policy.maxLatencyMs)
        if let requestDeadline = RequestDeadline.instant(unixMs: input.deadlineUnixMs, clockNow: started) {
            deadline = min(deadline, requestDeadline)
        }
        let current = registry.withLock { $0 }
        let plan = Router.plan(request: input.request, policy: input.policy, providers: current.providers, models: current.models,
                               health: health.views())
        guard !plan.candidates.isEmpty else { return .failure(ChatOutputError(output: Self.noEligibleModel(plan, started: started))) }
        var failover = FailoverState(candidates: plan.candidates)
        var reason = failover.current.reason
        while true {
            let candidate = failover.current
            let attemptStart = ContinuousClock.now
            let adapter = current.adapters[candidate.provider.id] ?? EchoAdapter()
            let result = input.traceparent.isEmpty
                ? await attempt(adapter, candidate, deadline)
                : await ProviderCallTrace.$traceparent.withValue(input.traceparent) { await attempt(adapter, candidate, deadline) }
            let attemptMs = Self.milliseconds(ContinuousClock.now - attemptStart)
            var call = ProviderAttempt(providerID: candidate.provider.id, modelID: candidate.model.id,
                                       startUnixMs: RequestDeadline.unixMs(at: attemptStart), durationMs: attemptMs)
            switch result {
            case .success(let value):
                attempts.append(call)
                health.record(providerID: candidate.provider.id, success: true, latencyMs: attemptMs)
                return .success((value, candidate, reason))
            case .failure(let failure):
                call.errorClass = failure.errorClass.rawValue
                attempts.append(call)
                if Task.isCancelled {
                    // The caller gave up (host_cancel, a deadline): no further attempt, and a
                    // cancelled call says nothing about the provider's health.
                    let decision = Decision(modelID: candidate.model.id, providerID: candidate.provider.id, reason: reason)
                    return .failure(ChatOutputError(output: ChatOutput(decision: decision, latencyMs: Int(Self.milliseconds(.now - started)),
                                                                       error: "cancelled", errorClass: .transient)))
                }
                if failure.message != "cancelled" {
                    health.record(providerID: candidate.provider.id, success: false, latencyMs: attemptMs, errorClass: failure.errorClass.rawValue)
                }
                switch failover.next(after: failure, timeLeft: deadline - .now, jitter: Double.random(in: 0.5...1.5)) {
                case .retry(let pause, let why):
                    reason = why
                    onEscalation(Escalation(requestID: input.requestID, action: "retry", fromModel: candidate.model.id, fromProvider: candidate.provider.id,
                                            toModel: candidate.model.id, toProvider: candidate.provider.id, errorClass: failure.errorClass.rawValue,
                                            attempt: failover.attempts, reason: why))
                    try? await Task.sleep(for: pause)
                case .switchTo(let next, let why):
                    reason = why
                    onEscalation(Escalation(requestID: input.requestID, action: "switch", fromModel: candidate.model.id, fromProvider: candidate.provider.id,
                                            toModel: next.model.id, toProvider: next.provider.id, errorClass: failure.errorClass.rawValue,
                                            attempt: failover.attempts, reason: why))
                case .giveUp:
                    let decision = Decision(modelID: candidate.model.id, providerID: candidate.provider.id, reason: reason)
                    return .failure(ChatOutputError(output: ChatOutput(
                        decision: decision, latencyMs: Int(Self.milliseconds(.now - started)),
                        error: "\(candidate.provider.id)/\(candidate.model.id): \(failure.message) (after \(failover.attempts) attempt(s))",
                        errorClass: failure.errorClass)))
                }
            }
        }
    }

    static func noEligibleModel(_ plan: RoutePlan, started: ContinuousClock.Instant) -> ChatOutput {
        if let pinned = plan.strictPin {
            return ChatOutput(latencyMs: Int(milliseconds(.now - started)),
                              error: "model \"\(pinned)\" \(plan.skipped[pinned] ?? "is not registered") (model_strict: no other model is tried)",
                              errorClass: .unknownModel)
        }
        let reasons = plan.skipped.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        return ChatOutput(
            latencyMs: Int(milliseconds(.now - started)),
            error: "no eligible model" + (reasons.isEmpty ? " (no models configured)" : " (\(reasons.joined(separator: "; ")))"),
            errorClass: .noEligibleModel)
    }

    /// A duration in fractional milliseconds.
    public static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

/// A failed stream opening, carried as an error so it fits `Result`.
public struct ChatOutputError: Error, Sendable {
    /// The failure as a ChatOutput (error and error_class set).
    public var output: ChatOutput
}
