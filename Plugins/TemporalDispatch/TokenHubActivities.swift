import PluginKit
import TemporalKit
import TokenHubCore
import TokenHubWorkflows

/// The seed's activities, run through the host table: ChatActivity is the engine's
/// route-and-send, LogResultActivity `host_log_result`: the workflow records its
/// outcome even when no host waits for it any more (the host keeps one record per request id).
struct TokenHubActivities {
    let host: HostTable
    let ledger: RequestLedger

    var handlers: [String: ActivityHandler] {
        let host = self.host, ledger = self.ledger
        return [
            Activities.chat: { attempt throws(ActivityFailure) in
                let input: ChatInput
                do {
                    input = try ChatInput(json: attempt.input)
                } catch {
                    throw ActivityFailure(type: Activities.invalidInput, "ChatInput: \(error)", nonRetryable: true)
                }
                if ledger.wasHandedToFallback(input.requestID) {
                    return ChatOutput(error: "served by the direct fallback while Temporal was unreachable; not sent again",
                                      errorClass: .fatal).json
                }
                let reply = await host.routeAndSend(JSONCoding.encode(input))
                switch reply.status {
                case .ok, .upstream:
                    guard let output = try? JSONCoding.decode(ChatOutput.self, from: reply.result) else {
                        throw ActivityFailure(type: "BadEngineReply", "the engine's reply is not a ChatOutput", nonRetryable: true)
                    }
                    ledger.recordAnswer(output, for: input.requestID)
                    return output.json
                case .invalidArgument:
                    throw ActivityFailure(type: Activities.invalidInput, reply.message, nonRetryable: true)
                default:
                    throw ActivityFailure(type: "EngineUnavailable", "\(reply.status): \(reply.message)", nonRetryable: false)
                }
            },
            Activities.logResult: { attempt throws(ActivityFailure) in
                var result: LogResult
                do {
                    result = try LogResult(json: attempt.input)
                } catch {
                    throw ActivityFailure(type: Activities.invalidInput, "LogResult: \(error)", nonRetryable: true)
                }
                // The workflow's record carries this instance's configured name, as the host's does.
                result.dispatcher = host.instanceName ?? result.dispatcher
                let reply = await host.logResult(JSONCoding.encode(result))
                switch reply.status {
                case .ok: return .null
                case .invalidArgument: throw ActivityFailure(type: Activities.invalidInput, reply.message, nonRetryable: true)
                default: throw ActivityFailure(type: "LogUnavailable", "\(reply.status): \(reply.message)", nonRetryable: false)
                }
            },
        ]
    }
}
