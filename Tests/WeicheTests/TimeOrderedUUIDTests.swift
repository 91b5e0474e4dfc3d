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

    /// The pool hands out every bit at random across its refills, and no number twice, also
    /// to concurrent callers.
    @Test func thePooledGeneratorIsRandomAcrossRefillsAndThreads() async {
        let perTask = 3000  // 24,000 bytes each: several refills of the 4 KiB pool
        let numbers = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var generator = PooledRandom()
                    return (0..<perTask).map { _ in generator.next() }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(numbers.count == 4 * perTask)
        #expect(Set(numbers).count == numbers.count)
        for bit in 0..<64 {
            let set = numbers.filter { $0 >> UInt64(bit) & 1 == 1 }.count
            #expect((0.45...0.55).contains(Double(set) / Double(numbers.count)), "bit \(bit) set in \(set) of \(numbers.count)")
        }
    }
}
