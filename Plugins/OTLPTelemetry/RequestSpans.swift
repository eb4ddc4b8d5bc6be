import Tracing
import TokenHubCore

/// A wall-clock instant for spans built after the fact (a request's times come from its
/// result, not from a clock read while it ran).
struct UnixInstant: TracerInstant {
    var nanosecondsSinceEpoch: UInt64

    init(unixMs: Double) {
        nanosecondsSinceEpoch = unixMs.isFinite && unixMs > 0 ? UInt64(min(unixMs * 1_000_000, Double(UInt64.max / 2))) : 0
    }

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch }
}

/// What the event stream said about a request before its result arrived.
struct RequestNotes {
    /// The Temporal workflow that ran it.
    var workflowID: String?
    /// When TemporalDispatch handed it to the next dispatcher, and why.
    var fallback: (unixMs: Double, reason: String)?
}

/// `traceparent` as a carrier for the tracer's W3C propagator.
struct TraceparentExtractor: Extractor {
    func extract(key: String, from carrier: String) -> String? { key == "traceparent" ? carrier : nil }
}

/// Builds one request's spans from its result: the request (kind server, continuing the
/// client's trace), the dispatcher that served it (and TemporalDispatch first when it fell
/// back), and under it one client span per provider call. Attribute names follow the
/// OpenTelemetry GenAI semantic conventions where they have one (`gen_ai.*`, `error.type`);
/// TokenHub's own carry `tokenhub.`.
enum RequestSpans {
    static func record(_ result: LogResult, endUnixMs: Double, notes: RequestNotes, tracer: any Tracer) {
        let output = result.output
        let end = endUnixMs
        let start = min(end - Double(max(0, output.latencyMs)), output.attempts.map(\.startUnixMs).min() ?? .infinity)
        var parent = InstrumentationContext.topLevel
        if !result.traceparent.isEmpty {
            tracer.extract(result.traceparent, into: &parent, using: TraceparentExtractor())
        }
        let operation = result.kind == "plan" ? "plan" : "chat"
        let model = output.decision.modelID
        let request = tracer.startSpan(model.isEmpty ? operation : "\(operation) \(model)", context: parent, ofKind: .server,
                                       at: UnixInstant(unixMs: start))
        request.attributes["gen_ai.operation.name"] = operation
        if !model.isEmpty { request.attributes["gen_ai.request.model"] = model; request.attributes["gen_ai.response.model"] = model }
        if !output.decision.providerID.isEmpty { request.attributes["gen_ai.provider.name"] = output.decision.providerID }
        if let usage = output.response["usage"] {
            if let input = usage["prompt_tokens"]?.numberValue { request.attributes["gen_ai.usage.input_tokens"] = count(input) }
            if let produced = usage["completion_tokens"]?.numberValue { request.attributes["gen_ai.usage.output_tokens"] = count(produced) }
        }
        request.attributes["tokenhub.request_id"] = result.requestID
        request.attributes["tokenhub.mode"] = result.mode
        request.attributes["tokenhub.dispatcher"] = result.dispatcher
        request.attributes["tokenhub.cost_usd"] = output.decision.estimatedCostUSD
        if !result.apiKeyID.isEmpty { request.attributes["tokenhub.api_key_id"] = result.apiKeyID }
        if let workflowID = notes.workflowID { request.attributes["tokenhub.workflow_id"] = workflowID }
        markError(request, output.errorClass?.rawValue ?? "", message: output.error)

        if let fallback = notes.fallback {
            let tried = tracer.startSpan("dispatch temporal", context: request.context, ofKind: .internal, at: UnixInstant(unixMs: start))
            tried.attributes["tokenhub.dispatcher"] = "temporal"
            tried.attributes["tokenhub.fallback_reason"] = fallback.reason
            markError(tried, "temporal_unavailable", message: "fell back: \(fallback.reason)")
            tried.end(at: UnixInstant(unixMs: min(max(fallback.unixMs, start), end)))
        }
        let dispatcher = tracer.startSpan("dispatch \(result.dispatcher.isEmpty ? "none" : result.dispatcher)", context: request.context,
                                          ofKind: .internal, at: UnixInstant(unixMs: start))
        dispatcher.attributes["tokenhub.dispatcher"] = result.dispatcher
        if let workflowID = notes.workflowID { dispatcher.attributes["tokenhub.workflow_id"] = workflowID }
        for attempt in output.attempts {
            let call = tracer.startSpan("chat \(attempt.modelID)", context: dispatcher.context, ofKind: .client,
                                        at: UnixInstant(unixMs: attempt.startUnixMs))
            call.attributes["gen_ai.operation.name"] = "chat"
            call.attributes["gen_ai.request.model"] = attempt.modelID
            call.attributes["gen_ai.provider.name"] = attempt.providerID
            markError(call, attempt.errorClass, message: attempt.errorClass)
            call.end(at: UnixInstant(unixMs: attempt.startUnixMs + max(0, attempt.durationMs)))
        }
        dispatcher.end(at: UnixInstant(unixMs: end))
        request.end(at: UnixInstant(unixMs: end))
    }

    /// A token count from a provider, clamped to what an attribute holds.
    private static func count(_ value: Double) -> Int64 {
        value.isFinite ? Int64(max(0, min(value, 9e15))) : 0
    }

    private static func markError(_ span: any Span, _ errorClass: String, message: String) {
        guard !errorClass.isEmpty || !message.isEmpty else { return }
        span.attributes["error.type"] = errorClass.isEmpty ? "error" : errorClass
        span.setStatus(SpanStatus(code: .error, message: String(message.prefix(256))))
    }
}
