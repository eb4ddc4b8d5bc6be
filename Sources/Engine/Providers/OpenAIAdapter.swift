import AsyncHTTPClient
import Foundation
import Synchronization
import TokenHubCore

/// Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, NIM, Groq...). `base_url` is the API
/// root including `/v1`; several base URLs (the `vllm` type) are used round robin.
final class OpenAIAdapter: ProviderAdapter {
    private let provider: ProviderSpec
    private let transport: HTTPTransport
    private let nextURL = Atomic<Int>(0)

    init(provider: ProviderSpec, transport: HTTPTransport) {
        self.provider = provider
        self.transport = transport
    }

    func send(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async -> Result<ProviderAnswer, ProviderFailure> {
        let answer = await transport.postJSON(url: endpoint(), headers: headers(), body: body(request, model, stream: false),
                                              timeout: HTTPTransport.timeout(until: deadline, cap: provider.timeoutMs))
        return answer.map { json in
            ProviderAnswer(response: json, inputTokens: json["usage"]?["prompt_tokens"]?.countValue,
                           outputTokens: json["usage"]?["completion_tokens"]?.countValue)
        }
    }

    func stream(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async
        -> Result<AsyncThrowingStream<StreamChunk, any Error>, ProviderFailure>
    {
        await transport.postEventStream(url: endpoint(), headers: headers(), body: body(request, model, stream: true),
                                        timeout: HTTPTransport.timeout(until: deadline, cap: provider.timeoutMs), deadline: deadline)
    }

    private func endpoint() -> String {
        let urls = provider.baseURLs
        let index = urls.count > 1 ? nextURL.wrappingAdd(1, ordering: .relaxed).oldValue % urls.count : 0
        var base = urls[index]
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/chat/completions"
    }

    private func headers() -> [(String, String)] {
        provider.apiKey.isEmpty ? [] : [("Authorization", "Bearer \(provider.apiKey)")]
    }

    private func body(_ request: ChatRequest, _ model: ModelSpec, stream: Bool) -> JSONValue {
        var body = request.parameters
        body["model"] = .string(model.upstreamName)
        body["messages"] = .array(request.messages)
        body["stream"] = .bool(stream)
        if !stream { body["stream_options"] = nil }
        return .object(body)
    }
}
