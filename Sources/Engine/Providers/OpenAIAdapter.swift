import Synchronization
import TokenHubCore
import UpstreamHTTP

/// Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, NIM, Groq...). `base_url` is the API
/// root including `/v1`; several base URLs (the `vllm` type) are used round robin.
final class OpenAIAdapter: ProviderAdapter {
    private let provider: ProviderSpec
    private let transport: HTTPTransport
    /// The provider's base URLs with `/chat/completions`, parsed once.
    private let endpoints: Result<[UpstreamEndpoint], ProviderFailure>
    private let nextURL = Atomic<Int>(0)

    init(provider: ProviderSpec, transport: HTTPTransport) {
        self.provider = provider
        self.transport = transport
        endpoints = HTTPTransport.endpoints(provider.baseURLs, path: "/chat/completions")
    }

    func send(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async -> Result<ProviderAnswer, ProviderFailure> {
        let endpoint: UpstreamEndpoint
        switch self.endpoint() {
        case .failure(let failure): return .failure(failure)
        case .success(let value): endpoint = value
        }
        let answer = await transport.postJSON(to: endpoint, headers: headers(), body: body(request, model, stream: false),
                                              timeout: HTTPTransport.timeout(until: deadline, cap: provider.timeoutMs))
        return answer.map { json in
            ProviderAnswer(response: json, inputTokens: json["usage"]?["prompt_tokens"]?.countValue,
                           outputTokens: json["usage"]?["completion_tokens"]?.countValue)
        }
    }

    func stream(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async
        -> Result<AsyncThrowingStream<StreamChunk, any Error>, ProviderFailure>
    {
        switch endpoint() {
        case .failure(let failure): return .failure(failure)
        case .success(let endpoint):
            return await transport.postEventStream(to: endpoint, headers: headers(), body: body(request, model, stream: true),
                                                   timeout: HTTPTransport.timeout(until: deadline, cap: provider.timeoutMs), deadline: deadline)
        }
    }

    /// The next endpoint, round robin when there are several.
    private func endpoint() -> Result<UpstreamEndpoint, ProviderFailure> {
        endpoints.map { urls in
            urls.count > 1 ? urls[nextURL.wrappingAdd(1, ordering: .relaxed).oldValue % urls.count] : urls[0]
        }
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
