@testable import HostRuntime
import Testing
import TokenHubCore

@Suite("output_schema limits")
struct OutputSchemaLimitTests {
    @Test("schemas past the size, enum or depth limits are refused; a costly check stops at its work limit")
    func limits() {
        let bigEnum = JSONValue.object(["enum": .array((0..<1001).map { .number(Double($0)) })])
        #expect(OutputSchemaValidator.checkSchema(bigEnum)?.contains("at most 1000 values") == true)
        var deep = JSONValue.object(["type": .string("object")])
        for _ in 0..<40 { deep = .object(["items": deep]) }
        #expect(OutputSchemaValidator.checkSchema(deep)?.contains("levels deep") == true)
        let huge = JSONValue.object(["description": .string(String(repeating: "x", count: 70_000))])
        #expect(OutputSchemaValidator.checkSchema(huge)?.contains("bytes") == true)
        let items = JSONValue.object(["type": .string("array"), "items": .object(["enum": .array((0..<1000).map { .number(Double($0)) })])])
        #expect(OutputSchemaValidator.checkSchema(items) == nil)
        let reply = "[" + Array(repeating: "999", count: 5000).joined(separator: ",") + "]"
        #expect(OutputSchemaValidator.violation(of: items, in: reply)?.contains("work limit") == true)
        #expect(OutputSchemaValidator.violation(of: items, in: "[1,2,3]") == nil)
    }
}
