import Foundation
import Testing
import TokenHubCore

@Suite("ABI payload coding")
struct PayloadCodingTests {
    @Test("ChatInput takes defaults for absent api_key_id and policy")
    func chatInputDefaults() throws {
        let json = #"{"request_id":"r1","request":{"messages":[{"role":"user","content":"hi"}]}}"#
        let input = try JSONCoding.decode(ChatInput.self, from: Data(json.utf8))
        #expect(input.requestID == "r1")
        #expect(input.apiKeyID == "")
        #expect(input.policy == Policy())
        #expect(input.request.messages == [.object(["role": .string("user"), "content": .string("hi")])])
        #expect(input.request.modelHint == "")
        #expect(input.request.stream == false)
    }

    @Test("ChatInput round-trips with snake_case keys")
    func chatInputRoundTrip() throws {
        let input = ChatInput(
            requestID: "r2", apiKeyID: "key-1",
            request: ChatRequest(messages: [.object(["role": .string("user"), "content": .string("x")])],
                                 modelHint: "m", estimatedInputTokens: 12, parameters: ["max_tokens": .number(5)]),
            policy: Policy(mode: "cheap", maxBudgetUSD: 0.5, maxLatencyMs: 900, minWeight: 3))
        let data = try JSONCoding.encode(input)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""api_key_id":"key-1""#))
        #expect(text.contains(#""max_budget_usd":0.5"#))
        #expect(text.contains(#""max_tokens":5"#), "integers stay integers: \(text)")
        #expect(try JSONCoding.decode(ChatInput.self, from: data) == input)
    }

    @Test("ChatOutput writes error_class as an empty string when unset and reads unknown classes as fatal")
    func chatOutputErrorClass() throws {
        let ok = String(decoding: try JSONCoding.encode(ChatOutput()), as: UTF8.self)
        #expect(ok.contains(#""error_class":"""#))
        let odd = #"{"error":"boom","error_class":"weird"}"#
        let decoded = try JSONCoding.decode(ChatOutput.self, from: Data(odd.utf8))
        #expect(decoded.errorClass == .fatal)
        #expect(decoded.error == "boom")
        let overflow = #"{"error":"too long","error_class":"context_overflow"}"#
        #expect(try JSONCoding.decode(ChatOutput.self, from: Data(overflow.utf8)).errorClass == .contextOverflow)
    }

    @Test("JSONValue keeps every JSON type")
    func jsonValueRoundTrip() throws {
        let text = #"{"a":[1,2.5,"s",true,null,{"b":{}}]}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value["a"]?.arrayValue?.count == 6)
        #expect(value["a"]?.arrayValue?[3] == .bool(true))
        #expect(value["a"]?.arrayValue?[0] == .number(1))
        let again = try JSONDecoder().decode(JSONValue.self, from: try JSONCoding.encode(value))
        #expect(again == value)
    }
}
