import Foundation
import TokenHubCore
import UpstreamHTTP

/// Anthropic's Messages API. `base_url` is the API root (https://api.anthropic.com); requests
/// and answers are translated to and from OpenAI's shapes by `AnthropicTranslation`.
final class AnthropicAdapter: ProviderAdapter {
    static let apiVersion = "2023-06-01"
    private let provider: ProviderSpec
    private let transport: HTTPTransport

    /// `base_url` (or Anthropic's own) with `/v1/messages`, parsed once.
    private let endpoint: Result<UpstreamEndpoint, ProviderFailure>

    init(provider: ProviderSpec, transport: HTTPTransport) {
        self.provider = provider
        self.transport = transport
        endpoint = HTTPTransport.endpoints([provider.baseURLs.first ?? "https://api.anthropic.com"], path: "/v1/messages").map { $0[0] }
    }

    func send(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async -> Result<ProviderAnswer, ProviderFailure> {
        let endpoint: UpstreamEndpoint
        switch self.endpoint {
        case .failure(let failure): return .failure(failure)
        case .success(let value): endpoint = value
        }
        let body = AnthropicTranslation.request(request, model: model.upstreamName, stream: false)
        let answer = await transport.postJSON(to: endpoint, headers: headers(), body: body,
                                              timeout: HTTPTransport.timeout(until: deadline, cap: provider.timeoutMs))
        return answer.map { json in
            ProviderAnswer(response: AnthropicTranslation.response(json, model: model.upstreamName),
                           inputTokens: json["usage"]?["input_tokens"]?.countValue,
                           outputTokens: json["usage"]?["output_tokens"]?.countValue)
        }
    }

    func stream(_ request: ChatRequest, model: ModelSpec, deadline: ContinuousClock.Instant) async
        -> Result<AsyncThrowingStream<StreamChunk, any Error>, ProviderFailure>
    {
        let endpoint: UpstreamEndpoint
        switch self.endpoint {
        case .failure(let failure): return .failure(failure)
        case .success(let value): endpoint = value
        }
        let body = AnthropicTranslation.request(request, model: model.upstreamName, stream: true)
        let opened = await transport.postEventStream(to: endpoint, headers: headers(), body: body,
                                                     timeout: HTTPTransport.timeout(until: deadline, cap: provider.timeoutMs), deadline: deadline)
        let events: AsyncThrowingStream<JSONValue, any Error>
        switch opened {
        case .failure(let failure): return .failure(failure)
        case .success(let stream): events = stream
        }
        // Translated on demand, like the events themselves: no task, no unbounded buffer.
        let reader = AnthropicChunkReader(events: events, translator: AnthropicStreamTranslator(model: model.upstreamName))
        return .success(AsyncThrowingStream(unfolding: { try await reader.next() }))
    }

    private func headers() -> [(String, String)] {
        [("x-api-key", provider.apiKey), ("anthropic-version", Self.apiVersion)]
    }
}

/// Turns Anthropic stream events into OpenAI `chat.completion.chunk` objects.
struct AnthropicStreamTranslator {
    let model: String
    private var id = "msg"
    private var toolIndexByBlock: [Int: Int] = [:]

    init(model: String) { self.model = model }

    mutating func translate(_ event: JSONValue) -> [StreamChunk] {
        switch event["type"]?.stringValue {
        case "message_start":
            id = event["message"]?["id"]?.stringValue ?? id
            return [chunk(delta: ["role": .string("assistant"), "content": .string("")])]
        case "content_block_start" where event["content_block"]?["type"]?.stringValue == "tool_use":
            let block = (event["index"]?.countValue ?? 0)
            let toolIndex = toolIndexByBlock.count
            toolIndexByBlock[block] = toolIndex
            let call: JSONValue = .object([
                "index": .number(Double(toolIndex)), "id": event["content_block"]?["id"] ?? .string(""), "type": .string("function"),
                "function": .object(["name": event["content_block"]?["name"] ?? .string(""), "arguments": .string("")]),
            ])
            return [chunk(delta: ["tool_calls": .array([call])])]
        case "content_block_delta":
            let delta = event["delta"]
            if delta?["type"]?.stringValue == "text_delta" {
                return [chunk(delta: ["content": delta?["text"] ?? .string("")])]
            }
            if delta?["type"]?.stringValue == "input_json_delta",
               let toolIndex = toolIndexByBlock[(event["index"]?.countValue ?? 0)] {
                let call: JSONValue = .object(["index": .number(Double(toolIndex)), "function": .object(["arguments": delta?["partial_json"] ?? .string("")])])
                return [chunk(delta: ["tool_calls": .array([call])])]
            }
            return []
        case "message_delta":
            let reason = AnthropicTranslation.finishReason(event["delta"]?["stop_reason"]?.stringValue)
            return [chunk(delta: [:], finishReason: reason)]
        default:
            return []
        }
    }

    private func chunk(delta: [String: JSONValue], finishReason: String? = nil) -> StreamChunk {
        .object([
            "id": .string(id), "object": .string("chat.completion.chunk"),
            "created": .number(Double(Int(Date().timeIntervalSince1970))), "model": .string(model),
            "choices": .array([.object([
                "index": .number(0), "delta": .object(delta),
                "finish_reason": finishReason.map(JSONValue.string) ?? .null,
            ])]),
        ])
    }
}

/// Pulls Anthropic events and hands out the OpenAI chunks they translate to, one at a time.
///
/// THREAD: used by one consumer at a time.
final class AnthropicChunkReader: @unchecked Sendable {
    private var events: AsyncThrowingStream<JSONValue, any Error>.AsyncIterator
    private var translator: AnthropicStreamTranslator
    private var pending: [StreamChunk] = []
    private var stopped = false

    init(events: AsyncThrowingStream<JSONValue, any Error>, translator: AnthropicStreamTranslator) {
        self.events = events.makeAsyncIterator()
        self.translator = translator
    }

    func next() async throws -> StreamChunk? {
        while pending.isEmpty {
            guard !stopped, let event = try await events.next() else { return nil }
            pending = translator.translate(event)
            if event["type"]?.stringValue == "message_stop" { stopped = true }
        }
        return pending.removeFirst()
    }
}
