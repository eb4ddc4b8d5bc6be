import Foundation
import Testing
import TokenHubCore

@Suite("ABI payload coding")
struct PayloadCodingTests {
    @Test("ChatInput takes defaults for absent api_key_id and policy")
    func chatInputDefaults() throws {
        let json = #"{"request_id":"r1","request":{"messages":[{"role":"user","content":"hi"}]}}"#
        let input = try JSONCoding.decode(ChatInput.self, from: Array(json.utf8))
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
        let data = JSONCoding.encode(input)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""api_key_id":"key-1""#))
        #expect(text.contains(#""max_budget_usd":0.5"#))
        #expect(text.contains(#""max_tokens":5"#), "integers stay integers: \(text)")
        #expect(try JSONCoding.decode(ChatInput.self, from: data) == input)
    }

    @Test("ChatOutput writes error_class as an empty string when unset and reads unknown classes as fatal")
    func chatOutputErrorClass() throws {
        let ok = String(decoding: JSONCoding.encode(ChatOutput()), as: UTF8.self)
        #expect(ok.contains(#""error_class":"""#))
        let odd = #"{"error":"boom","error_class":"weird"}"#
        let decoded = try JSONCoding.decode(ChatOutput.self, from: Array(odd.utf8))
        #expect(decoded.errorClass == .fatal)
        #expect(decoded.error == "boom")
        let overflow = #"{"error":"too long","error_class":"context_overflow"}"#
        #expect(try JSONCoding.decode(ChatOutput.self, from: Array(overflow.utf8)).errorClass == .contextOverflow)
    }

    @Test("a LogResult keeps the output's decision, latency, error and usage, and none of the answer's text")
    func logResultCarriesNoContent() throws {
        let response: JSONValue = .object([
            "choices": .array([.object(["message": .object(["role": .string("assistant"), "content": .string("secret answer")])])]),
            "usage": .object(["total_tokens": .number(42)]),
        ])
        let output = ChatOutput(decision: Decision(modelID: "m", providerID: "p", estimatedCostUSD: 0.5, reason: "r"),
                                response: response, latencyMs: 12)
        let log = LogResult(requestID: "r1", apiKeyID: "", kind: "chat", mode: "normal", output: output, dispatcher: "direct")
        #expect(log.output.response == .object(["usage": .object(["total_tokens": .number(42)])]))
        #expect(log.output.decision == output.decision)
        #expect(log.output.latencyMs == 12)
        #expect(!log.json.serializedString.contains("secret answer"))
        let failed = ChatOutput(error: "upstream 500", errorClass: .transient)
        #expect(failed.forLog == failed)
    }

    @Test("JSONValue keeps every JSON type")
    func jsonValueRoundTrip() throws {
        let text = #"{"a":[1,2.5,"s",true,null,{"b":{}}]}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value["a"]?.arrayValue?.count == 6)
        #expect(value["a"]?.arrayValue?[3] == .bool(true))
        #expect(value["a"]?.arrayValue?[0] == .number(1))
        let again = try JSONDecoder().decode(JSONValue.self, from: Data(value.serialized))
        #expect(again == value)
    }
}

@Suite("JSON parser and writer")
struct JSONParserTests {
    @Test("parses every JSON type, escapes and surrogate pairs")
    func parsesValues() throws {
        let value = try JSONValue.parse(#"{"s":"a\"b\\c\n\u00e9\ud83d\ude00","n":[0,-1.5,2e3,1E-2],"t":true,"f":false,"z":null,"o":{}}"#)
        #expect(value["s"] == .string("a\"b\\c\né😀"))
        #expect(value["n"] == .array([.number(0), .number(-1.5), .number(2000), .number(0.01)]))
        #expect(value["t"] == .bool(true))
        #expect(value["z"] == .null)
        #expect(value["o"] == .object([:]))
    }

    @Test("reads integers of every length the same as the general number path")
    func readsIntegers() throws {
        let cases: [(String, Double)] = [
            ("0", 0), ("7", 7), ("-12", -12), ("12345678901234", 12_345_678_901_234), ("123456789012345", 123_456_789_012_345),
            ("-99999999999999999", -99_999_999_999_999_999), ("42e2", 4200), ("10.5", 10.5),
        ]
        for (text, expected) in cases {
            #expect(try JSONValue.parse(text) == .number(expected), "\(text)")
            #expect(try JSONValue.parse("[\(text)]") == .array([.number(expected)]), "[\(text)]")
            #expect(try JSONValue.parse("{\"n\":\(text)}") == .object(["n": .number(expected)]), "{n:\(text)}")
        }
        let negativeZero = try JSONValue.parse("-0").numberValue
        #expect(negativeZero == 0 && negativeZero?.sign == .minus)
        let written: JSONValue = .array([.number(0), .number(-7), .number(1_234_567_890_123), .number(-0.5), .number(1e20)])
        #expect(written.serializedString == "[0,-7,1234567890123,-0.5,1e+20]")
    }

    @Test("refuses malformed documents with the byte offset", arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "-01", "00", "1.", "-", "- 1", "NaN", "1e999", "\"\u{01}\"", "\"\\ud800\"", "\"\\x\"", "{} x",
        "tru", "[1 2]", "{\"a\" 1}", "{1:2}",
    ])
    func refusesMalformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("refuses invalid UTF-8 and nesting past the limit")
    func refusesInvalidUTF8AndDepth() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONValue.parse(fine)) != nil)
    }

    @Test("parseMembers reads the named members and steps over the rest")
    func parsesSelectedMembers() throws {
        let text = #"{"skip":{"a":["x\"]}{",{"b":[1,2,{"c":"\\"}]}],"t":true},"keep":{"n":5},"id":"r-1","tail":[null,false,-1.5e3]}"#
        let members = try JSONValue.parseMembers(["keep", "id", "absent"], of: Array(text.utf8))
        #expect(members == ["keep": .object(["n": .number(5)]), "id": .string("r-1")])
        let malformed = [
            #"{"skip":"unterminated}"#, #"{"skip":[1,2}"#, #"{"skip":{"a" 1},"id":"x"}"#, #"{"id":"x"} tail"#, #"["id"]"#,
            #"{"skip":nope,"id":"x"}"#, #"{"id":"x",}"#,
        ]
        for text in malformed {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONValue.parseMembers(["id"], of: Array(text.utf8)) }
        }
    }

    @Test("the writer's output parses back to the same value, keys sorted")
    func roundTrip() throws {
        let value: JSONValue = .object(["b": .array([.number(1), .number(2.5), .string("x\n\u{01}\"")]), "a": .bool(false), "c": .null])
        #expect(value.serializedString == #"{"a":false,"b":[1,2.5,"x\n\u0001\""],"c":null}"#)
        #expect(try JSONValue.parse(value.serialized) == value)
    }
}
