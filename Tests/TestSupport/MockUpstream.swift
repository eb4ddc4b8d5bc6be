import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TokenHubCore

/// A scriptable LLM provider on a real loopback socket: OpenAI's `/v1/chat/completions` and
/// Anthropic's `/v1/messages`. Each upstream model name has a queue of scripted replies;
/// when the queue is empty the mock answers `mock:<model>:<last user text>`.
public final class MockUpstream: Sendable {
    /// One scripted reply.
    public enum Reply: Sendable {
        /// 200 with this assistant text, after a delay.
        case text(String, delayMs: Int = 0)
        /// Any status with a raw body and headers.
        case status(Int, body: String, headers: [String: String] = [:])
        /// 400 with OpenAI's context_length_exceeded error.
        case contextOverflow
        /// 429 with a Retry-After in seconds.
        case rateLimited(retryAfterSeconds: Int)
        /// 200 SSE stream of these text pieces, one chunk each, `delayMs` apart.
        case stream([String], delayMs: Int = 0)
    }

    /// A request the mock received.
    public struct Call: Sendable {
        public var path: String
        public var model: String
        public var body: JSONValue
        public var headers: [String: String]
    }

    private struct State {
        var scripts: [String: [Reply]] = [:]
        var calls: [Call] = []
        var abortedStreams = 0
    }

    /// The script and the call log, shared with the request handlers.
    private final class Store: Sendable {
        let mutex = Mutex(State())
        func withLock<R>(_ body: (inout State) -> R) -> R { mutex.withLock { body(&$0) } }
    }

    private let state = Store()
    /// The bound port.
    public let port: Int
    private let task: Task<Void, any Error>

    /// `http://127.0.0.1:<port>/v1` (an OpenAI base_url).
    public var openAIBaseURL: String { "http://127.0.0.1:\(port)/v1" }
    /// `http://127.0.0.1:<port>` (an Anthropic base_url).
    public var anthropicBaseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the mock on a free port.
    public init() async throws {
        let state = self.state
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in
            try await MockUpstream.handle(request, state: state, anthropic: false)
        }
        router.post("/v1/messages") { request, _ in
            try await MockUpstream.handle(request, state: state, anthropic: true)
        }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: .init(label: "mock-upstream", factory: { _ in SwiftLogNoOpLogHandler() }))
        task = Task { try await application.run() }
        var iterator = portStream.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    deinit { task.cancel() }

    /// Stops the server.
    public func stop() { task.cancel() }

    /// Queues replies for requests naming `model`.
    public func script(_ model: String, _ replies: [Reply]) {
        state.withLock { $0.scripts[model, default: []].append(contentsOf: replies) }
    }

    /// Every request received, in order.
    public var calls: [Call] { state.withLock { $0.calls } }

    /// Streams whose reader went away before the end (the gateway cancelled the call).
    public var abortedStreams: Int { state.withLock { $0.abortedStreams } }

    /// How many requests named `model`.
    public func callCount(_ model: String) -> Int { calls.filter { $0.model == model }.count }

    private static func handle(_ request: Request, state: Store, anthropic: Bool) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 16 << 20)
        let body = (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))) ?? .null
        let model = body["model"]?.stringValue ?? ""
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let reply = state.withLock { state -> Reply? in
            state.calls.append(Call(path: request.uri.path, model: model, body: body, headers: headers))
            guard var queue = state.scripts[model], !queue.isEmpty else { return nil }
            let next = queue.removeFirst()
            state.scripts[model] = queue
            return next
        }
        let lastUser = (body["messages"]?.arrayValue ?? []).last { $0["role"]?.stringValue == "user" }
        let lastText: String = switch lastUser?["content"] {
        case .string(let text)?: text
        case .array(let parts)?: parts.compactMap { $0["text"]?.stringValue }.joined()
        default: ""
        }
        switch reply ?? .text("mock:\(model):\(lastText)") {
        case .text(let text, let delayMs):
            if delayMs > 0 { try await Task.sleep(for: .milliseconds(delayMs)) }
            return json(anthropic ? anthropicAnswer(text, model) : openAIAnswer(text, model))
        case .status(let code, let raw, let extra):
            var response = Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(string: raw)))
            for (name, value) in extra { response.headers[HTTPField.Name(name)!] = value }
            return response
        case .contextOverflow:
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string:
                #"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#)))
        case .rateLimited(let seconds):
            return Response(status: .tooManyRequests, headers: [.retryAfter: String(seconds)],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"message":"slow down","type":"rate_limit"}}"#)))
        case .stream(let pieces, let delayMs):
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
              do {
                for piece in pieces {
                    if delayMs > 0 { try await Task.sleep(for: .milliseconds(delayMs)) }
                    let chunk: JSONValue = anthropic
                        ? .object(["type": .string("content_block_delta"), "index": .number(0), "delta": .object(["type": .string("text_delta"), "text": .string(piece)])])
                        : .object(["id": .string("chatcmpl-mock"), "object": .string("chat.completion.chunk"), "model": .string(model),
                                   "choices": .array([.object(["index": .number(0), "delta": .object(["content": .string(piece)]), "finish_reason": .null])])])
                    try await writer.write(sse(chunk))
                }
                if anthropic {
                    try await writer.write(sse(.object(["type": .string("message_delta"), "delta": .object(["stop_reason": .string("end_turn")])])))
                    try await writer.write(sse(.object(["type": .string("message_stop")])))
                } else {
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                }
                try await writer.finish(nil)
              } catch {
                state.withLock { $0.abortedStreams += 1 }
                throw error
              }
            })
        }
    }

    private static func sse(_ value: JSONValue) -> ByteBuffer {
        ByteBuffer(string: "data: " + String(decoding: try! JSONCoding.encode(value), as: UTF8.self) + "\n\n")
    }

    private static func json(_ value: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try! JSONCoding.encode(value))))
    }

    private static func openAIAnswer(_ text: String, _ model: String) -> JSONValue {
        .object([
            "id": .string("chatcmpl-mock"), "object": .string("chat.completion"), "created": .number(1), "model": .string(model),
            "choices": .array([.object(["index": .number(0), "message": .object(["role": .string("assistant"), "content": .string(text)]),
                                        "finish_reason": .string("stop")])]),
            "usage": .object(["prompt_tokens": .number(10), "completion_tokens": .number(20), "total_tokens": .number(30)]),
        ])
    }

    private static func anthropicAnswer(_ text: String, _ model: String) -> JSONValue {
        .object([
            "id": .string("msg_mock"), "type": .string("message"), "role": .string("assistant"), "model": .string(model),
            "content": .array([.object(["type": .string("text"), "text": .string(text)])]),
            "stop_reason": .string("end_turn"),
            "usage": .object(["input_tokens": .number(11), "output_tokens": .number(22)]),
        ])
    }
}
