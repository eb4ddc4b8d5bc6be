import Testing
import TokenHubCore

@Suite("Saturating conversions of outside numbers")
struct SaturatingNumbersTests {
    @Test("Int(saturating:) clamps huge, tiny, infinite and NaN values instead of trapping")
    func intSaturating() {
        #expect(Int(saturating: 1e300) == .max)
        #expect(Int(saturating: -1e300) == .min)
        #expect(Int(saturating: .infinity) == .max)
        #expect(Int(saturating: -.infinity) == .min)
        #expect(Int(saturating: .nan) == 0)
        #expect(Int(saturating: 9_223_372_036_854_775_807.0) == .max)  // rounds to 2^63
        #expect(Int(saturating: -9_223_372_036_854_775_808.0) == .min)
        #expect(Int(saturating: 42.9) == 42)
        #expect(Int(saturating: -42.9) == -42)
        #expect(Int(saturating: 1e300, in: 0...10) == 10)
        #expect(Int(saturating: .nan, in: 3...10) == 3)
        #expect(Int64(saturating: 1e19) == .max)
    }

    @Test("durations from outside milliseconds are clamped to 0...maximum")
    func durations() {
        #expect(Duration.milliseconds(saturating: 1e300) == .seconds(86_400 * 365))
        #expect(Duration.milliseconds(saturating: 1e300, maximum: .seconds(5)) == .seconds(5))
        #expect(Duration.milliseconds(saturating: -5) == .zero)
        #expect(Duration.milliseconds(saturating: .nan) == .zero)
        #expect(Duration.milliseconds(saturating: 1500) == .milliseconds(1500))
        #expect(Duration.seconds(3).wholeMilliseconds == 3000)
    }

    @Test("counts: non-negative, clamped to maxCount, nil for other types and negatives")
    func counts() {
        #expect(JSONValue.number(1e300).countValue == JSONValue.maxCount)
        #expect(JSONValue.number(-1).countValue == nil)
        #expect(JSONValue.number(12.7).countValue == 12)
        #expect(JSONValue.string("12").countValue == nil)
        #expect(JSONValue.null.countValue == nil)
        // Sums of clamped counts cannot overflow.
        #expect(JSONValue.maxCount + JSONValue.maxCount > 0)
    }
}
