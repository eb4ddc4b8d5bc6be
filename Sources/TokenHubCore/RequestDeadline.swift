import Foundation

/// A request's one deadline, as it travels in ChatInput and OrchestrationInput: Unix
/// milliseconds (wall clock, so that it means the same in a Temporal worker on another
/// machine), converted to the monotonic clock where something waits on it.
public enum RequestDeadline {
    /// The Unix-milliseconds deadline `budget` after `now`.
    public static func unixMs(after budget: Duration, now: Date = Date()) -> Int64 {
        let nowMs = Int64(saturating: (now.timeIntervalSince1970 * 1000).rounded())
        let (sum, overflow) = nowMs.addingReportingOverflow(Int64(budget.wholeMilliseconds))
        return overflow ? .max : sum
    }

    /// The monotonic instant of a Unix-milliseconds deadline; nil for 0 (none). A deadline in
    /// the past is an instant in the past: whoever waits on it stops at once.
    public static func instant(unixMs: Int64, now: Date = Date(), clockNow: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        guard unixMs > 0 else { return nil }
        let nowMs = Int64(saturating: (now.timeIntervalSince1970 * 1000).rounded())
        // Clamped to a day either way: a deadline from a skewed or hostile clock cannot
        // overflow the instant arithmetic.
        let left = max(-86_400_000, min(86_400_000, unixMs.subtractingReportingOverflow(nowMs).partialValue))
        return clockNow + .milliseconds(left)
    }

    /// The wall-clock time of a monotonic `instant`, in fractional Unix milliseconds (when a
    /// provider call started, for traces).
    public static func unixMs(at instant: ContinuousClock.Instant, now: Date = Date(), clockNow: ContinuousClock.Instant = .now) -> Double {
        let ago = clockNow - instant
        return now.timeIntervalSince1970 * 1000 - (Double(ago.components.seconds) * 1000 + Double(ago.components.attoseconds) / 1e15)
    }
}
