import Foundation
import TokenHubCore

/// The built-in `echo` provider: answers with the last user message, with no network call.
/// For smoke tests and for measuring the gateway's own overhead.
struct EchoProvider {
    /// An OpenAI chat-completion body echoing the prompt, with usage counted as the router
    /// estimates tokens (UTF-8 bytes / 4).
    static func respond(to request: ChatRequest, model: ModelSpec, requestID: String) -> JSONValue {
        let prompt = lastUserText(request.messages)
        let inputTokens = TokenEstimate.inputTokens(request)
        let outputTokens = max(1, prompt.utf8.count / 4)
        return .object([
            "id": .string("chatcmpl-\(requestID)"),
            "object": .string("chat.completion"),
            "created": .number(Double(Int(Date().timeIntervalSince1970))),
            "model": .string(model.upstreamName),
            "choices": .array([.object([
                "index": .number(0),
                "message": .object(["role": .string("assistant"), "content": .string(prompt)]),
                "finish_reason": .string("stop"),
            ])]),
            "usage": .object([
                "prompt_tokens": .number(Double(inputTokens)),
                "completion_tokens": .number(Double(outputTokens)),
                "total_tokens": .number(Double(inputTokens + outputTokens)),
            ]),
        ])
    }

    private static func lastUserText(_ messages: [JSONValue]) -> String {
        guard let message = messages.last(where: { $0["role"]?.stringValue == "user" }) ?? messages.last else { return "" }
        switch message["content"] ?? .null {
        case .string(let text): return text
        case .array(let parts): return parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        default: return ""
        }
    }
}
