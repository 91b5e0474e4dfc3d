import CCrypto
import Synchronization

/// HMAC-SHA-256 through OpenSSL's libcrypto.
public enum HMACSHA256 {
    /// OpenSSL's HMAC, fetched once: `EVP_Q_mac` fetched it by name on every call, which was
    /// most of the cost of a person's keyed hash at ingest. A fetched algorithm is immutable
    /// and may be used from any thread.
    nonisolated(unsafe) private static let algorithm: OpaquePointer? = EVP_MAC_fetch(nil, "HMAC", nil)

    /// The 32-byte MAC of `message` under `key`.
    public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Keyed(key).mac(message)
    }

    /// HMAC-SHA-256 under one key, for many messages: the key is taken in (the digest looked
    /// up, the padded key hashed) once, and each MAC starts from a copy of that state.
    public final class Keyed: @unchecked Sendable {
        // @unchecked: the keyed context is written only here and freed in deinit; MACs copy it
        // under `lock`.
        private let template: OpaquePointer
        private let lock = Mutex(())

        public init(_ key: [UInt8]) {
            guard let algorithm = HMACSHA256.algorithm, let context = EVP_MAC_CTX_new(algorithm) else { preconditionFailure("OpenSSL has no HMAC") }
            let succeeded = "digest".withCString { name in
                "SHA256".withCString { digest in
                    var parameters = [OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0), OSSL_PARAM_construct_end()]
                    return key.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &parameters) } == 1
                }
            }
            precondition(succeeded, "OpenSSL could not key HMAC-SHA-256")
            template = context
        }

        deinit {
            EVP_MAC_CTX_free(template)
        }

        /// The 32-byte MAC of `message`.
        public func mac(_ message: [UInt8]) -> [UInt8] {
            guard let context = lock.withLock({ _ in EVP_MAC_CTX_dup(template) }) else { preconditionFailure("OpenSSL could not copy an HMAC context") }
            defer { EVP_MAC_CTX_free(context) }
            var output = [UInt8](repeating: 0, count: 32)
            var length = 0
            let succeeded = message.withUnsafeBufferPointer { EVP_MAC_update(context, $0.baseAddress, $0.count) } == 1
                && output.withUnsafeMutableBufferPointer { EVP_MAC_final(context, $0.baseAddress, &length, 32) } == 1
            precondition(succeeded && length == 32, "OpenSSL's HMAC-SHA-256 failed")
            return output
        }
    }
}
