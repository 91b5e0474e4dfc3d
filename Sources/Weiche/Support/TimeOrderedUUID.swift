import Foundation

extension UUID {
    /// A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made
    /// later sort later, so a B-tree index over them grows at its right edge instead of in a
    /// random leaf per insert — what keeps inserting fast when the tables hold millions of rows
    /// (Docs/Performance.md). The randomness still makes ids unguessable.
    public static func timeOrdered(at date: Date = Date()) -> UUID {
        var generator = PooledRandom()
        return timeOrdered(at: date, using: &generator)
    }

    static func timeOrdered(at date: Date, using generator: inout some RandomNumberGenerator) -> UUID {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        // Big-endian: 48 bits of milliseconds, version 7, 12 random bits; variant 10, 62 random bits.
        let high = milliseconds << 16 | 0x7000 | (generator.next() & 0x0FFF)
        let low = 0x8000_0000_0000_0000 | (generator.next() & 0x3FFF_FFFF_FFFF_FFFF)
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return UUID(uuid: uuid)
    }
}
