import Engine
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TokenHubCore

/// Relays a streamed completion as server-sent events in OpenAI's chunk format, ending with
/// `data: [DONE]`. Streaming always goes direct to the engine (a workflow cannot hold an open
/// HTTP stream). A client that disconnects cancels the upstream call.
struct StreamRelay {
    let gateway: Gateway

    func relay(_ input: ChatInput) async throws(APIError) -> Response {
        let started = ContinuousClock.now
        // The stream records into the store of the generation it started on, which stays
        // until the stream ends (counted in its requests).
        let generation = gateway.currentGeneration
        generation.requests.enter()
        var handedToBody = false
        defer { if !handedToBody { generation.requests.leave() } }
        let opened: Engine.OpenedStream
        switch await gateway.engine.routeAndStream(input) {
        case .failure(let failure):
            _ = gateway.services.results.record(Self.logResult(input, failure.output), into: generation.plugins.store)
            throw DispatchOutcomeMapper.upstreamError(failure.output, requestID: input.requestID)
        case .success(let stream):
            opened = stream
        }
        let decision = opened.decision
        let services = gateway.services
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        headers[GatewayRoutes.requestIDHeader] = input.requestID
        headers[GatewayRoutes.modelHeader] = decision.modelID
        headers[GatewayRoutes.reasonHeader] = decision.reason
        handedToBody = true
        let body = ResponseBody { writer in
            defer { generation.requests.leave() }
            var output = ChatOutput(decision: decision, attempts: opened.attempts)
            do {
                for try await chunk in opened.chunks {
                    var chunk = chunk.objectValue ?? [:]
                    chunk["model"] = .string(decision.modelID)
                    try await writer.write(Self.event(.object(chunk)))
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            } catch {
                // Either the client went away (the write failed; leaving the loop cancels the
                // upstream call) or the upstream failed mid-stream (tell the client if we can).
                output.error = "stream ended early: \(error)"
                output.errorClass = .transient
                let event: JSONValue = .object(["error": .object(["message": .string(output.error), "type": .string("upstream_error")])])
                try? await writer.write(Self.event(event))
            }
            output.latencyMs = Int(Engine.milliseconds(.now - started))
            Self.extendStreamingAttempt(&output)
            _ = services.results.record(Self.logResult(input, output), into: generation.plugins.store)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The last provider call is the one that streamed: it ends now, with the stream's error
    /// class if it broke off.
    static func extendStreamingAttempt(_ output: inout ChatOutput, nowUnixMs: Double = Date().timeIntervalSince1970 * 1000) {
        guard var streaming = output.attempts.popLast() else { return }
        streaming.durationMs = max(streaming.durationMs, nowUnixMs - streaming.startUnixMs)
        if let errorClass = output.errorClass { streaming.errorClass = errorClass.rawValue }
        output.attempts.append(streaming)
    }

    static func event(_ value: JSONValue) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(value.serialized)
        buffer.writeString("\n\n")
        return buffer
    }

    static func logResult(_ input: ChatInput, _ output: ChatOutput) -> LogResult {
        LogResult(requestID: input.requestID, apiKeyID: input.apiKeyID, kind: "chat", mode: input.policy.mode, output: output, dispatcher: "stream",
                  traceparent: input.traceparent)
    }
}
