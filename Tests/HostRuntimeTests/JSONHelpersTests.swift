@testable import HostRuntime
import PluginKit
import Testing
import TokenHubCore

@Suite("JSON helpers of the host table (ABI 1.3)")
struct JSONHelpersTests {
    let input = Array(#"{"request":{"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi \"you\""}],"model_hint":""},"a/b":{"~x":1}}"#.utf8)

    func text(_ output: JSONHelpers.Output) -> String? {
        guard case .bytes(let bytes) = output else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("get: strings unescaped, anything else as compact JSON, RFC 6901 escapes, clear failures")
    func get() {
        #expect(text(JSONHelpers.get(json: input, pointer: "/request/messages/1/content")) == #"hi "you""#)
        #expect(text(JSONHelpers.get(json: input, pointer: "/request/messages/0")) == #"{"content":"s","role":"system"}"#
                || text(JSONHelpers.get(json: input, pointer: "/request/messages/0")) == #"{"role":"system","content":"s"}"#)
        #expect(text(JSONHelpers.get(json: input, pointer: "/a~1b/~0x")) == "1")
        #expect(JSONHelpers.get(json: input, pointer: "/request/messages/2") == .failure(.notFound))
        #expect(JSONHelpers.get(json: input, pointer: "/request/messages/01") == .failure(.notFound), "a leading zero is not an index")
        #expect(JSONHelpers.get(json: input, pointer: "/request/nope") == .failure(.notFound))
        #expect(JSONHelpers.get(json: input, pointer: "request") == .failure(.invalidArgument), "a pointer starts with /")
        #expect(JSONHelpers.get(json: input, pointer: "/a~2b") == .failure(.invalidArgument))
        #expect(JSONHelpers.get(json: Array("{not json".utf8), pointer: "") == .failure(.invalidArgument))
    }

    @Test("set: replaces or adds a member, replaces an array element, keeps the rest; a missing parent is not found")
    func set() throws {
        let pinned = try #require(text(JSONHelpers.set(json: input, pointer: "/request/model_hint", value: Array(#""gpt-4o""#.utf8))))
        let strict = try #require(text(JSONHelpers.set(json: Array(pinned.utf8), pointer: "/request/model_strict", value: Array("true".utf8))))
        let parsed = try JSONValue.parse(strict)
        #expect(parsed["request"]?["model_hint"] == .string("gpt-4o"))
        #expect(parsed["request"]?["model_strict"] == .bool(true))
        #expect(parsed["request"]?["messages"]?.arrayValue?[1]["content"] == .string(#"hi "you""#))
        let replaced = try #require(text(JSONHelpers.set(json: input, pointer: "/request/messages/0/content", value: Array(#""t""#.utf8))))
        #expect(try JSONValue.parse(replaced)["request"]?["messages"]?.arrayValue?[0]["content"] == .string("t"))
        #expect(JSONHelpers.set(json: input, pointer: "/missing/child", value: Array("1".utf8)) == .failure(.notFound))
        #expect(JSONHelpers.set(json: input, pointer: "/request/messages/5", value: Array("1".utf8)) == .failure(.notFound))
        #expect(JSONHelpers.set(json: input, pointer: "", value: Array("1".utf8)) == .failure(.invalidArgument))
        #expect(JSONHelpers.set(json: input, pointer: "/x", value: Array("not json".utf8)) == .failure(.invalidArgument))
    }

    @Test("chat_error writes a ChatOutput with the class and the escaped message; an unknown class is refused")
    func chatError() throws {
        let output = try #require(text(JSONHelpers.chatError(errorClass: "transient", message: "backend \"b\" down\n")))
        let decoded = try ChatOutput(json: JSONValue.parse(output))
        #expect(decoded.error == "backend \"b\" down\n")
        #expect(decoded.errorClass == .transient)
        #expect(JSONHelpers.chatError(errorClass: "oops", message: "x") == .failure(.invalidArgument))
    }

    @Test("the buffer convention: the full length always; written only when it fits; a negative status on failure")
    func bufferConvention() {
        let output = JSONHelpers.Output.bytes(Array("hello".utf8))
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(buffer.withUnsafeMutableBufferPointer { output.write(to: $0.baseAddress, capacity: 4) } == 5)
        #expect(buffer == [0, 0, 0, 0, 0, 0, 0, 0], "nothing written when it does not fit")
        #expect(output.write(to: nil, capacity: 0) == 5)
        #expect(buffer.withUnsafeMutableBufferPointer { output.write(to: $0.baseAddress, capacity: 8) } == 5)
        #expect(Array(buffer.prefix(5)) == Array("hello".utf8))
        #expect(JSONHelpers.Output.failure(.notFound).write(to: nil, capacity: 0) == -8)
    }
}

@Suite("Recording once per request id")
struct RecentRequestIDsTests {
    @Test("a repeat is refused; the oldest id is forgotten past the capacity")
    func bounded() {
        var recent = RecentRequestIDs(capacity: 3)
        let inserted = ["a", "a", "b", "c", "d", "a", "d"].map { recent.insert($0) }
        // The second "a" is a repeat; after b, c, d the first "a" was the oldest of four and
        // is forgotten; "d" is still remembered.
        #expect(inserted == [true, false, true, true, true, true, false])
    }
}

@Suite("Pass-through payloads: the host's own bytes are recognized, not parsed again")
struct PassThroughTests {
    @Test("a ChatOutput handed back unchanged is the engine's own value; changed bytes are parsed; entries are bounded")
    func memo() throws {
        let memo = EncodedValueMemo<ChatOutput>()
        let output = ChatOutput(decision: Decision(modelID: "m"), response: .object(["id": .string("a")]))
        let bytes = JSONCoding.encode(output)
        memo.remember(output, encodedAs: bytes)
        #expect(memo.peek(Array(bytes)) == output, "a copy of the same bytes is recognized")
        var changed = bytes
        changed[changed.count / 2] ^= 0x01  // same length and fingerprint ends, different bytes
        #expect(memo.take(changed) == nil, "the fingerprint matches but the bytes do not")
        #expect(memo.take(bytes) == output)
        #expect(memo.take(bytes) == nil, "taken once")
        for index in 0..<(EncodedValueMemo<ChatOutput>.capacity + 10) {
            let value = ChatOutput(decision: Decision(modelID: "m\(index)"))
            memo.remember(value, encodedAs: JSONCoding.encode(value))
        }
        let first = ChatOutput(decision: Decision(modelID: "m0"))
        #expect(memo.peek(JSONCoding.encode(first)) == nil, "the oldest entry is dropped past the capacity")
        let last = ChatOutput(decision: Decision(modelID: "m\(EncodedValueMemo<ChatOutput>.capacity + 9)"))
        #expect(memo.peek(JSONCoding.encode(last)) == last)
    }
}
