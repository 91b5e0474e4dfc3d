import CCrypto
import Glibc
import Synchronization

/// Random numbers from the kernel's generator (`getrandom`), like
/// `SystemRandomNumberGenerator`, but drawn 4 KiB at a time into a pool shared by the process:
/// one system call per few hundred ids instead of one per number. Ingest makes an id per
/// message and per delivery, and the calls showed in its profile; OpenSSL's `RAND_bytes` cost
/// six times as much per call.
public struct PooledRandom: RandomNumberGenerator {
    public init() {}

    public mutating func next() -> UInt64 {
        Self.pool.withLock { $0.next() }
    }

    private static let pool = Mutex(Pool())

    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var offset = 4096

        mutating func next() -> UInt64 {
            if offset + 8 > bytes.count { refill() }
            defer { offset += 8 }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        }

        /// The whole pool anew; where the kernel refuses (it never should), from Swift's generator.
        mutating func refill() {
            var filled = 0
            while filled < bytes.count {
                let count = bytes.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, $0.count - filled, 0) }
                if count > 0 {
                    filled += count
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    var system = SystemRandomNumberGenerator()
                    while filled + 8 <= bytes.count {
                        bytes.withUnsafeMutableBytes { $0.storeBytes(of: system.next(), toByteOffset: filled, as: UInt64.self) }
                        filled += 8
                    }
                    break
                }
            }
            offset = 0
        }
    }
}
