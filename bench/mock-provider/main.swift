// A minimal OpenAI-compatible provider for benchmarks: answers every
// POST /v1/chat/completions with a fixed completion after --delay-ms.
// Usage: MockProvider <port> <delay-ms>
import Hummingbird
import Logging
import NIOCore

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 9100 : 9100
let delayMs = arguments.count > 2 ? Int(arguments[2]) ?? 0 : 0
let answer = ByteBuffer(string: #"{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#)

let router = Router()
router.post("/v1/chat/completions") { request, _ -> Response in
    _ = try await request.body.collect(upTo: 1 << 20)
    if delayMs > 0 { try await Task.sleep(for: .milliseconds(delayMs)) }
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
}
var logger = Logger(label: "mock-provider")
logger.logLevel = .warning
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
try await app.runService()
