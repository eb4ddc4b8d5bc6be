import TokenHubCore

/// Token and cost arithmetic shared by eligibility, routing and logging.
public enum TokenEstimate {
    /// Output tokens assumed before the provider reports usage.
    public static let defaultOutputTokens = 512
    /// Headroom kept in the context window: a model is eligible only if its window is at
    /// least this many times the estimated input.
    public static let contextHeadroom = 1.15

    /// The caller's estimate when given, else UTF-8 bytes of the message contents / 4.
    public static func inputTokens(_ request: ChatRequest) -> Int {
        if request.estimatedInputTokens > 0 { return request.estimatedInputTokens }
        let bytes = request.messages.reduce(0) { $0 + contentBytes($1["content"] ?? .null) }
        return max(1, bytes / 4)
    }

    /// The dollar cost of a call on `model`.
    public static func cost(_ model: ModelSpec, inputTokens: Int, outputTokens: Int) -> Double {
        Double(inputTokens) / 1000 * model.inputPricePer1K + Double(outputTokens) / 1000 * model.outputPricePer1K
    }

    private static func contentBytes(_ content: JSONValue) -> Int {
        switch content {
        case .string(let text): text.utf8.count
        case .array(let parts): parts.reduce(0) { $0 + contentBytes($1["text"] ?? .null) }
        default: 0
        }
    }
}
