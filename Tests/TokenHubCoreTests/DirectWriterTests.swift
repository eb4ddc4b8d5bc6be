import Testing
import TestSupport
import TokenHubCore

@Suite("Payloads that write themselves produce exactly the bytes of their JSON value")
struct DirectWriterTests {
    var random = SplitMix64(state: 0x2026_1202_0013)

    mutating func text() -> String {
        let pieces = ["a", "é", "\"", "\\", "\n", "\u{01}", "🙂", "x y", "</script>", ""]
        return (0..<Int(random.next() % 6)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
    }

    mutating func number() -> Double {
        [0, 1, -3, 0.5, 1e20, 123_456_789, 0.1 + 0.2][Int(random.next() % 7)]
    }

    @Test("ChatInput (with traceparent), ChatRequest, Policy, ChatOutput (with attempts) and Decision, over 500 random values each")
    mutating func sameBytes() {
        for _ in 0..<500 {
            var request = ChatRequest(messages: [.object(["role": .string("user"), "content": .string(text())])], modelHint: text(),
                                      modelStrict: random.next() % 2 == 0, estimatedInputTokens: Int(random.next() % 1000),
                                      parameters: random.next() % 2 == 0 ? [:] : ["temperature": .number(number()), text(): .string(text())],
                                      stream: random.next() % 2 == 0)
            if random.next() % 3 == 0 { request.outputSchema = .object(["type": .string("object")]) }
            let input = ChatInput(requestID: text(), apiKeyID: text(), request: request,
                                  policy: Policy(mode: text(), maxBudgetUSD: number(), maxLatencyMs: Int(random.next() % 100_000), minWeight: Int(random.next() % 10)),
                                  idempotencyKey: random.next() % 2 == 0 ? "" : text(), deadlineUnixMs: random.next() % 2 == 0 ? 0 : Int64(random.next() % 1_000_000_000_000),
                                  traceparent: random.next() % 2 == 0 ? "" : text())
            #expect(JSONCoding.encode(input) == input.json.serialized)
            let output = ChatOutput(decision: Decision(modelID: text(), providerID: text(), estimatedCostUSD: number(), reason: text()),
                                    response: .object(["choices": .array([.object(["text": .string(text())])])]), latencyMs: Int(random.next() % 10_000),
                                    error: text(), errorClass: random.next() % 2 == 0 ? nil : .transient,
                                    attempts: (0..<Int(random.next() % 3)).map { _ in
                                        ProviderAttempt(providerID: text(), modelID: text(), startUnixMs: number(), durationMs: number(),
                                                        errorClass: random.next() % 2 == 0 ? "" : text())
                                    })
            #expect(JSONCoding.encode(output) == output.json.serialized)
        }
    }
}
