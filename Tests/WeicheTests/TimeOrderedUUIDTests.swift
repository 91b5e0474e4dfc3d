import Foundation
import Testing
@testable import Weiche

@Suite("Time-ordered ids (UUID version 7)")
struct TimeOrderedUUIDTests {
    @Test func carryVersionVariantAndTheMillisecond() {
        let date = Date(timeIntervalSince1970: 1_764_115_200.123)
        let id = UUID.timeOrdered(at: date)
        let text = id.uuidString.lowercased()
        #expect(text.hasPrefix(String(format: "%012llx", UInt64(1_764_115_200_123)).prefix(8)))
        let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        let milliseconds = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(milliseconds == 1_764_115_200_123)
        #expect(bytes[6] >> 4 == 7)
        #expect(bytes[8] >> 6 == 0b10)
    }

    @Test func laterIdsSortLaterAndNoneRepeats() {
        var ids: [UUID] = []
        var seen = Set<UUID>()
        for step in 0..<10_000 {
            let id = UUID.timeOrdered(at: Date(timeIntervalSince1970: 1_764_115_200 + Double(step / 10) / 1000))
            ids.append(id)
            seen.insert(id)
        }
        #expect(seen.count == ids.count)
        // Across milliseconds the order is the time's; within one it is random.
        for (earlier, later) in zip(ids, ids.dropFirst(10)) {
            #expect(earlier.uuidString < later.uuidString)
        }
    }
}
