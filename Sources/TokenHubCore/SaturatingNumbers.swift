/// Conversions for numbers that come from outside the process (clients, admins, upstream
/// bodies and headers, store rows, plugin JSON, Temporal payloads). None of them traps:
/// `Int(_: Double)` does on NaN, infinities and anything past `Int.max`, so external numbers
/// go through these instead (integer arithmetic on them uses `…ReportingOverflow`).
extension Int {
    /// `value` rounded toward zero and clamped to `Int`'s range; NaN becomes 0.
    public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9_223_372_036_854_775_808.0 {  // 2^63, the first Double past Int.max
            self = .max
        } else if value < -9_223_372_036_854_775_808.0 {
            self = .min
        } else {
            self = Int(value)
        }
    }

    /// `value` rounded toward zero, clamped to `range`; NaN becomes `range.lowerBound`.
    public init(saturating value: Double, in range: ClosedRange<Int>) {
        if value.isNaN { self = range.lowerBound; return }
        self = Swift.min(Swift.max(Int(saturating: value), range.lowerBound), range.upperBound)
    }
}

extension Int64 {
    /// `value` rounded toward zero and clamped to `Int64`'s range; NaN becomes 0.
    public init(saturating value: Double) {
        self = Int64(Int(saturating: value))
    }
}

extension Duration {
    /// `milliseconds` as a duration, clamped to `0...maximum` (NaN is 0). For waits and
    /// timeouts computed from outside numbers (`Retry-After`, a key's rate, a policy).
    public static func milliseconds(saturating milliseconds: Double, maximum: Duration = .seconds(86_400 * 365)) -> Duration {
        guard milliseconds > 0 else { return .zero }  // also NaN
        let cap = maximum.totalMilliseconds
        guard milliseconds < cap else { return maximum }
        return .nanoseconds(Int64(saturating: (milliseconds * 1_000_000).rounded(.up)))
    }

    /// The duration in fractional milliseconds.
    public var totalMilliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// Whole milliseconds, rounded down and clamped to `Int`'s range.
    public var wholeMilliseconds: Int {
        Int(saturating: totalMilliseconds.rounded(.down))
    }
}

extension JSONValue {
    /// The largest count (of tokens, bytes, items) taken from outside; larger values are
    /// clamped to it so that sums and products of counts cannot overflow.
    public static let maxCount = 1 << 40

    /// A non-negative count from outside: nil unless the value is a number; fractions round
    /// down, negatives become nil (unknown), and values past `maxCount` are clamped to it.
    public var countValue: Int? {
        guard case .number(let number) = self, number >= 0 else { return nil }  // also NaN
        return Int(saturating: number, in: 0...Self.maxCount)
    }
}
