@testable import HostRuntime
import Testing
import TokenHubCore

@Suite("Directives in the first user message")
struct DirectivesTests {
    @Test("the prefix is found anywhere in the text, after non-ASCII too, and not in a near miss")
    func mentionsPrefix() {
        #expect(Directives.mentionsPrefix("@@tokenhub mode=cheap"))
        #expect(Directives.mentionsPrefix("hi\n  @@tokenhub model=x"))
        #expect(Directives.mentionsPrefix("héllo ✨ @@tokenhub"))
        #expect(!Directives.mentionsPrefix(""))
        #expect(!Directives.mentionsPrefix("@@tokenhu"))
        #expect(!Directives.mentionsPrefix("@@ tokenhub and @tokenhub"))
        #expect(!Directives.mentionsPrefix(String(repeating: "@@tokenhu ", count: 1000)))
    }

    @Test("a directive line sets the policy and model hint and is stripped; other text is left as it was")
    func applies() throws {
        var request = ChatRequest(messages: [.object(["role": .string("user"), "content": .string("Hello ✨\n  @@tokenhub mode=cheap model=m-1\nbye")])])
        var policy = Policy()
        try Directives.apply(to: &request, policy: &policy)
        #expect(policy.mode == "cheap")
        #expect(request.modelHint == "m-1")
        #expect(request.messages[0]["content"] == .string("Hello ✨\nbye"))
        var plain = ChatRequest(messages: [.object(["role": .string("user"), "content": .string("  no directives  ")])])
        try Directives.apply(to: &plain, policy: &policy)
        #expect(plain.messages[0]["content"] == .string("  no directives  "))
    }
}
