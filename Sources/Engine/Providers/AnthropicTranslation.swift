import Foundation
import TokenHubCore

/// Translates between OpenAI chat shapes and Anthropic's Messages API, both ways, including
/// `tool_calls` ↔ `tool_use` and `tool` messages ↔ `tool_result` blocks. Pure.
public enum AnthropicTranslation {
    /// Anthropic requires max_tokens; this is used when the client gave none.
    public static let defaultMaxTokens = 4096

    /// An OpenAI request as an Anthropic Messages request.
    public static func request(_ request: ChatRequest, model: String, stream: Bool) -> JSONValue {
        var system: [String] = []
        var messages: [JSONValue] = []
        for message in request.messages {
            let role = message["role"]?.stringValue ?? "user"
            switch role {
            case "system", "developer":
                system.append(text(of: message["content"]))
            case "tool":
                let block: JSONValue = .object([
                    "type": .string("tool_result"),
                    "tool_use_id": message["tool_call_id"] ?? .string(""),
                    "content": .string(text(of: message["content"])),
                ])
                appendBlocks([block], role: "user", to: &messages)
            case "assistant":
                var blocks: [JSONValue] = []
                let content = text(of: message["content"])
                if !content.isEmpty { blocks.append(.object(["type": .string("text"), "text": .string(content)])) }
                for call in message["tool_calls"]?.arrayValue ?? [] {
                    let arguments = call["function"]?["arguments"]?.stringValue ?? "{}"
                    let input = (try? JSONValue.parse(arguments)) ?? .object([:])
                    blocks.append(.object([
                        "type": .string("tool_use"), "id": call["id"] ?? .string(""),
                        "name": call["function"]?["name"] ?? .string(""), "input": input,
                    ]))
                }
                appendBlocks(blocks, role: "assistant", to: &messages)
            default:
                appendBlocks(userBlocks(message["content"]), role: "user", to: &messages)
            }
        }
        var body: [String: JSONValue] = [
            "model": .string(model),
            "messages": .array(messages),
            "max_tokens": request.parameters["max_tokens"] ?? request.parameters["max_completion_tokens"] ?? .number(Double(defaultMaxTokens)),
        ]
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        if stream { body["stream"] = .bool(true) }
        for key in ["temperature", "top_p", "top_k"] { if let value = request.parameters[key] { body[key] = value } }
        if let stop = request.parameters["stop"] {
            body["stop_sequences"] = stop.stringValue.map { .array([.string($0)]) } ?? stop
        }
        if let tools = request.parameters["tools"]?.arrayValue {
            body["tools"] = .array(tools.map { tool in
                let function = tool["function"] ?? tool
                return .object([
                    "name": function["name"] ?? .string(""),
                    "description": function["description"] ?? .string(""),
                    "input_schema": function["parameters"] ?? .object(["type": .string("object")]),
                ])
            })
        }
        if let choice = request.parameters["tool_choice"] { body["tool_choice"] = toolChoice(choice) }
        return .object(body)
    }

    /// An Anthropic Messages answer as an OpenAI chat.completion.
    public static func response(_ answer: JSONValue, model: String) -> JSONValue {
        var text = ""
        var toolCalls: [JSONValue] = []
        for block in answer["content"]?.arrayValue ?? [] {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "tool_use":
                let arguments = (block["input"] ?? .object([:])).serializedString
                toolCalls.append(.object([
                    "id": block["id"] ?? .string(""), "type": .string("function"),
                    "function": .object(["name": block["name"] ?? .string(""), "arguments": .string(arguments)]),
                ]))
            default: break
            }
        }
        var message: [String: JSONValue] = ["role": .string("assistant"), "content": text.isEmpty && !toolCalls.isEmpty ? .null : .string(text)]
        if !toolCalls.isEmpty { message["tool_calls"] = .array(toolCalls) }
        let input = answer["usage"]?["input_tokens"]?.numberValue ?? 0
        let output = answer["usage"]?["output_tokens"]?.numberValue ?? 0
        return .object([
            "id": answer["id"] ?? .string("msg"),
            "object": .string("chat.completion"),
            "created": .number(Double(Int(Date().timeIntervalSince1970))),
            "model": .string(model),
            "choices": .array([.object([
                "index": .number(0), "message": .object(message),
                "finish_reason": .string(finishReason(answer["stop_reason"]?.stringValue)),
            ])]),
            "usage": .object(["prompt_tokens": .number(input), "completion_tokens": .number(output), "total_tokens": .number(input + output)]),
        ])
    }

    /// OpenAI's finish_reason for an Anthropic stop_reason.
    public static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens": "length"
        case "tool_use": "tool_calls"
        default: "stop"
        }
    }

    private static func toolChoice(_ choice: JSONValue) -> JSONValue {
        switch choice {
        case .string("required"): .object(["type": .string("any")])
        case .string("none"): .object(["type": .string("none")])
        case .string: .object(["type": .string("auto")])
        default: .object(["type": .string("tool"), "name": choice["function"]?["name"] ?? .string("")])
        }
    }

    private static func userBlocks(_ content: JSONValue?) -> [JSONValue] {
        guard case .array(let parts)? = content else {
            return [.object(["type": .string("text"), "text": .string(text(of: content))])]
        }
        return parts.compactMap { part in
            part["type"]?.stringValue == "text" ? .object(["type": .string("text"), "text": part["text"] ?? .string("")]) : nil
        }
    }

    /// Anthropic wants alternating roles: consecutive same-role messages merge.
    private static func appendBlocks(_ blocks: [JSONValue], role: String, to messages: inout [JSONValue]) {
        guard !blocks.isEmpty else { return }
        if let last = messages.last, last["role"]?.stringValue == role, case .array(let previous)? = last["content"] {
            messages[messages.count - 1] = .object(["role": .string(role), "content": .array(previous + blocks)])
        } else {
            messages.append(.object(["role": .string(role), "content": .array(blocks)]))
        }
    }

    static func text(of content: JSONValue?) -> String {
        switch content {
        case .string(let text)?: text
        case .array(let parts)?: parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        default: ""
        }
    }
}
