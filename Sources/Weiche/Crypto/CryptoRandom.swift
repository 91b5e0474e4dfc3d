import CCrypto

/// Random numbers from OpenSSL's generator (`RAND_bytes`): cryptographically strong like
/// `SystemRandomNumberGenerator`, but drawn in the process from a seeded generator instead of
/// one `getrandom` system call per number, which showed in profiles of ingest (an id per
/// message and per delivery). Falls back to the system generator if OpenSSL refuses.
public struct CryptoRandom: RandomNumberGenerator {
    public init() {}

    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        let succeeded = withUnsafeMutableBytes(of: &value) { RAND_bytes($0.baseAddress, Int32($0.count)) } == 1
        if succeeded { return value }
        var system = SystemRandomNumberGenerator()
        return system.next()
    }
}
