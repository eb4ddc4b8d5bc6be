import Foundation
import TokenHubCore

/// The built-in `echo` provider: answers with the last user message, with no network call.
/// For smoke tests and for measuring the gateway's own overhead.
struct EchoAdapter: ProviderAdapter {
    func send(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async -> Result<ProviderAnswer, ProviderFailure> {
        let prompt = AnthropicTranslation.text(of: (request.messages.last { $0["role"]?.stringValue == "user" } ?? request.messages.last)?["content"])
        let inputTokens = TokenEstimate.inputTokens(request)
        let outputTokens = max(1, prompt.utf8.count / 4)
        let response: JSONValue = .object([
            "id": .string("chatcmpl-echo-\(UInt32.random(in: 0...UInt32.max))"),
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
        return .success(ProviderAnswer(response: response, inputTokens: inputTokens, outputTokens: outputTokens))
    }

    func stream(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async
        -> Result<AsyncThrowingStream<StreamChunk, any Error>, ProviderFailure>
    {
        guard case .success(let answer) = await send(request, model: model, deadline: deadline) else {
            return .failure(ProviderFailure(.fatal, "echo failed"))
        }
        let text = answer.response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
        let id = answer.response["id"] ?? .string("chatcmpl-echo")
        func chunk(_ delta: [String: JSONValue], _ finish: String?) -> StreamChunk {
            .object(["id": id, "object": .string("chat.completion.chunk"), "created": answer.response["created"] ?? .number(0),
                     "model": .string(model.upstreamName),
                     "choices": .array([.object(["index": .number(0), "delta": .object(delta), "finish_reason": finish.map(JSONValue.string) ?? .null])])])
        }
        var pieces = text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { index, word in
            chunk(["content": .string(index == 0 ? String(word) : " " + word)], nil)
        }
        pieces.insert(chunk(["role": .string("assistant"), "content": .string("")], nil), at: 0)
        pieces.append(chunk([:], "stop"))
        return .success(AsyncThrowingStream { continuation in
            for piece in pieces { continuation.yield(piece) }
            continuation.finish()
        })
    }
}
