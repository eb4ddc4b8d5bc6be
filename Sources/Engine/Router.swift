import TokenHubCore

/// What the health tracker knows of a provider, as the router reads it.
public struct ProviderHealthView: Sendable, Hashable {
    /// Smoothed latency of recent calls.
    public var latencyMs: Double
    /// Recent error rate in 0...1, decaying over time.
    public var errorRate: Double
    /// A down provider is not eligible.
    public var isDown: Bool

    /// Creates a view.
    public init(latencyMs: Double = 0, errorRate: Double = 0, isDown: Bool = false) {
        self.latencyMs = latencyMs
        self.errorRate = errorRate
        self.isDown = isDown
    }
}

/// How much each normalized factor counts in a mode; lower total score wins.
public struct ScoreWeights: Sendable, Hashable {
    /// Weights of normalized cost, latency, failure rate and (10 - weight) / 10.
    public var cost: Double, latency: Double, failure: Double, weight: Double

    /// The weights of a routing mode; unknown modes score as `normal`.
    public static func forMode(_ mode: String) -> ScoreWeights {
        switch mode {
        case "cheap": ScoreWeights(cost: 0.7, latency: 0.1, failure: 0.1, weight: 0.1)
        case "high_confidence": ScoreWeights(cost: 0.05, latency: 0.1, failure: 0.15, weight: 0.7)
        case "planning", "adversarial": ScoreWeights(cost: 0.1, latency: 0.1, failure: 0.2, weight: 0.6)
        default: ScoreWeights(cost: 0.25, latency: 0.25, failure: 0.25, weight: 0.25)
        }
    }
}

/// A model the router would use, best first.
public struct RouteCandidate: Sendable, Hashable {
    /// The model.
    public var model: ModelSpec
    /// Its provider.
    public var provider: ProviderSpec
    /// Estimated cost with the default output estimate.
    public var estimatedCostUSD: Double
    /// The mode's weighted score; lower wins.
    public var score: Double
    /// Why it was chosen, e.g. `routed-weight-8`.
    public var reason: String

    /// Creates a candidate.
    public init(model: ModelSpec, provider: ProviderSpec, estimatedCostUSD: Double, score: Double, reason: String) {
        self.model = model
        self.provider = provider
        self.estimatedCostUSD = estimatedCostUSD
        self.score = score
        self.reason = reason
    }
}

/// The router's answer: ranked candidates, and why every other model was skipped.
public struct RoutePlan: Sendable, Hashable {
    /// Eligible models, best first.
    public var candidates: [RouteCandidate]
    /// Ineligible model IDs with the reason each was skipped.
    public var skipped: [String: String]
    /// The strictly pinned model that could not be used, when that is why there are no candidates.
    public var strictPin: String? = nil
}

/// Pure routing: eligibility and scoring over a registry snapshot. No I/O, no state.
public enum Router {
    /// Ranks the eligible models for `request` under `policy`.
    public static func plan(
        request: ChatRequest, policy: Policy, providers: [ProviderSpec], models: [ModelSpec],
        health: [String: ProviderHealthView]
    ) -> RoutePlan {
        let providersByID = Dictionary(providers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let inputTokens = TokenEstimate.inputTokens(request)
        var skipped: [String: String] = [:]
        var eligible: [(ModelSpec, ProviderSpec, Double)] = []
        for model in models {
            guard let provider = providersByID[model.providerID] else { skipped[model.id] = "unknown provider"; continue }
            let cost = TokenEstimate.cost(model, inputTokens: inputTokens, outputTokens: TokenEstimate.defaultOutputTokens)
            if let reason = ineligibility(model, provider, policy, inputTokens, cost, health[provider.id]) {
                skipped[model.id] = reason
            } else {
                eligible.append((model, provider, cost))
            }
        }
        if let pinned = eligible.first(where: { $0.0.id == request.modelHint }) {
            let candidate = RouteCandidate(model: pinned.0, provider: pinned.1, estimatedCostUSD: pinned.2, score: 0, reason: "routed-hint-exact")
            return RoutePlan(candidates: [candidate], skipped: skipped)
        }
        if request.modelStrict && !request.modelHint.isEmpty {
            // A strict pin never routes elsewhere: no candidates, and the reason names the model.
            let why = skipped[request.modelHint].map { "is not eligible: \($0)" } ?? "is not registered"
            return RoutePlan(candidates: [], skipped: [request.modelHint: why], strictPin: request.modelHint)
        }
        let weights = ScoreWeights.forMode(policy.mode)
        let maxCost = eligible.map(\.2).max() ?? 0
        // A provider with no latency sample yet (never called, or only failed) scores the mean
        // of the known ones: a neutral prior. Scoring it 0, the best possible, sent most traffic
        // to providers nobody had reached yet, unreachable ones included.
        let known = eligible.compactMap { health[$0.1.id].flatMap { $0.latencyMs > 0 ? $0.latencyMs : nil } }
        let prior = known.isEmpty ? 0 : known.reduce(0, +) / Double(known.count)
        func latency(_ provider: ProviderSpec) -> Double {
            guard let view = health[provider.id], view.latencyMs > 0 else { return prior }
            return view.latencyMs
        }
        let maxLatency = eligible.map { latency($0.1) }.max() ?? 0
        let ranked = eligible.map { model, provider, cost in
            let view = health[provider.id] ?? ProviderHealthView()
            let score = weights.cost * (maxCost > 0 ? cost / maxCost : 0)
                + weights.latency * (maxLatency > 0 ? latency(provider) / maxLatency : 0)
                + weights.failure * view.errorRate
                + weights.weight * (1 - Double(model.weight) / 10)
            return RouteCandidate(model: model, provider: provider, estimatedCostUSD: cost, score: score, reason: "routed-weight-\(model.weight)")
        }.sorted { ($0.score, $1.model.weight, $0.model.id) < ($1.score, $0.model.weight, $1.model.id) }
        return RoutePlan(candidates: ranked, skipped: skipped)
    }

    private static func ineligibility(
        _ model: ModelSpec, _ provider: ProviderSpec, _ policy: Policy, _ inputTokens: Int, _ cost: Double,
        _ health: ProviderHealthView?
    ) -> String? {
        if !model.enabled { return "model disabled" }
        if !provider.enabled { return "provider disabled" }
        if model.weight < policy.minWeight { return "weight \(model.weight) below min_weight \(policy.minWeight)" }
        if Double(model.maxContextTokens) < Double(inputTokens) * TokenEstimate.contextHeadroom {
            return "context \(model.maxContextTokens) too small for ~\(inputTokens) input tokens"
        }
        if health?.isDown == true { return "provider down" }
        if cost > policy.maxBudgetUSD { return "estimated cost \(cost) over budget \(policy.maxBudgetUSD)" }
        return nil
    }
}
