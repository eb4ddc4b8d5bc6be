import Foundation
@testable import HostRuntime
import Testing

@Suite("Request IDs")
struct RequestIDTests {
    @Test("req- and 32 lowercase hex digits, the first 12 the time in milliseconds")
    func format() {
        let now = Date(timeIntervalSince1970: 1_790_000_000.123)
        let id = Gateway.newRequestID(now: now)
        #expect(id.hasPrefix("req-"))
        let digits = id.dropFirst(4)
        #expect(digits.count == 32)
        #expect(digits.allSatisfy { "0123456789abcdef".contains($0) }, "\(id)")
        #expect(UInt64(digits.prefix(12), radix: 16) == 1_790_000_000_123)
    }

    @Test("IDs sort by time, and IDs of one millisecond still differ")
    func ordering() {
        let earlier = Date(timeIntervalSince1970: 1_790_000_000)
        let later = earlier.addingTimeInterval(0.001)
        for _ in 0..<100 {
            #expect(Gateway.newRequestID(now: earlier) < Gateway.newRequestID(now: later))
        }
        let sameInstant = Set((0..<10_000).map { _ in Gateway.newRequestID(now: earlier) })
        #expect(sameInstant.count == 10_000)
    }
}
