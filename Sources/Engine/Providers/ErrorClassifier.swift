import Foundation
import TokenHubCore

/// Maps upstream HTTP answers to error classes. Pure, so every rule is unit-tested.
public enum ErrorClassifier {
    /// Phrases providers use for a prompt that does not fit (OpenAI, Anthropic, vLLM, Ollama).
    static let contextOverflowMarkers = [
        "context_length_exceeded", "maximum context length", "context window", "prompt is too long",
        "too many tokens", "reduce the length", "input is too long",
    ]

    /// Classifies a non-2xx answer.
    public static func classify(status: Int, body: String, retryAfterHeader: String?, now: Date = Date()) -> ProviderFailure {
        let snippet = String(body.prefix(300))
        let lowered = body.lowercased()
        if [400, 413, 422].contains(status), contextOverflowMarkers.contains(where: lowered.contains) {
            return ProviderFailure(.contextOverflow, "context overflow (\(status)): \(snippet)", status: status)
        }
        switch status {
        case 429:
            return ProviderFailure(.rateLimited, "rate limited (429): \(snippet)", status: status,
                                   retryAfter: retryAfterHeader.flatMap { parseRetryAfter($0, now: now) })
        case 408, 409, 425, 500, 502, 503, 504, 529:
            return ProviderFailure(.transient, "upstream \(status): \(snippet)", status: status,
                                   retryAfter: retryAfterHeader.flatMap { parseRetryAfter($0, now: now) })
        default:
            return ProviderFailure(.fatal, "upstream \(status): \(snippet)", status: status)
        }
    }

    /// `Retry-After` as delay-seconds or an HTTP date.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return .milliseconds(saturating: seconds * 1000) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .milliseconds(saturating: date.timeIntervalSince(now) * 1000)
    }
}
