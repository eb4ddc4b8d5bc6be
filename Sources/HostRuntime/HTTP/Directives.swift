import Glibc
import TokenHubCore

/// `@@tokenhub key=value …` lines in the first user message override the policy (and the
/// model hint) and are stripped before the message is forwarded.
enum Directives {
    static let prefix = "@@tokenhub"

    /// Applies and strips the directives of `request`'s first user message.
    static func apply(to request: inout ChatRequest, policy: inout Policy) throws(APIError) {
        guard let index = request.messages.firstIndex(where: { $0["role"]?.stringValue == "user" }),
              case .object(var message) = request.messages[index],
              case .string(let content)? = message["content"], mentionsPrefix(content) else { return }
        var kept: [Substring] = []
        for line in content.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(prefix) else { kept.append(line); continue }
            for pair in trimmed.dropFirst(prefix.count).split(separator: " ", omittingEmptySubsequences: true) {
                try applyPair(pair, to: &request, policy: &policy)
            }
        }
        message["content"] = .string(kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
        request.messages[index] = .object(message)
    }

    /// Whether `text` holds `prefix`: one byte search over the prompt. (Foundation's
    /// `String.contains(_:)` bridges to NSString and walks UTF-16, several times the cost on
    /// every request's first user message.)
    static func mentionsPrefix(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { haystack in
            prefix.utf8.withContiguousStorageIfAvailable { needle in
                guard let base = haystack.baseAddress, haystack.count >= needle.count else { return false }
                let last = haystack.count - needle.count
                var start = 0
                while start <= last {
                    guard let found = haystack[start...last].firstIndex(of: needle[0]) else { return false }
                    if memcmp(base + found, needle.baseAddress!, needle.count) == 0 { return true }
                    start = found + 1
                }
                return false
            } ?? false
        }
    }

    private static func applyPair(_ pair: Substring, to request: inout ChatRequest, policy: inout Policy) throws(APIError) {
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { throw .invalidField("\(prefix) \(pair)", "expected key=value") }
        let key = String(parts[0]), value = String(parts[1])
        let field = "\(prefix) \(key)"
        switch key {
        case "mode":
            policy = try RequestReader.policy(.object(["mode": .string(value)]), at: prefix, defaults: policy)
        case "max_budget_usd", "budget":
            guard let number = Double(value) else { throw .invalidField(field, "expected a number, got \"\(value)\"") }
            policy = try RequestReader.policy(.object(["max_budget_usd": .number(number)]), at: prefix, defaults: policy)
        case "max_latency_ms", "latency":
            guard let number = Int(value) else { throw .invalidField(field, "expected an integer, got \"\(value)\"") }
            policy = try RequestReader.policy(.object(["max_latency_ms": .number(Double(number))]), at: prefix, defaults: policy)
        case "min_weight":
            guard let number = Int(value) else { throw .invalidField(field, "expected an integer, got \"\(value)\"") }
            policy = try RequestReader.policy(.object(["min_weight": .number(Double(number))]), at: prefix, defaults: policy)
        case "model", "model_hint":
            request.modelHint = value
        case "model_strict", "strict":
            guard let flag = Bool(value) else { throw .invalidField(field, "expected true or false, got \"\(value)\"") }
            request.modelStrict = flag
        default:
            throw .invalidField(field, "unknown directive (expected mode, max_budget_usd, max_latency_ms, min_weight, model, model_strict)")
        }
    }
}
