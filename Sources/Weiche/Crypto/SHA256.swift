import CCrypto
import WeicheCore

/// SHA-256 through OpenSSL's libcrypto.
public enum SHA256 {
    /// OpenSSL's SHA-256, fetched once. Given `EVP_sha256()`, OpenSSL 3 looks the
    /// implementation up again for every digest, under a lock shared by all threads.
    nonisolated(unsafe) private static let algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

    private static var fetched: OpaquePointer {
        guard let algorithm else { preconditionFailure("OpenSSL has no SHA-256") }
        return algorithm
    }

    /// The digest of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let succeeded = input.withUnsafeBytes { source in
            EVP_Digest(source.baseAddress, source.count, &digest, &length, SHA256.fetched, nil)
        }
        precondition(succeeded == 1 && length == 32, "OpenSSL's SHA-256 failed")
        return digest
    }

    /// The digest of `first` followed by `second`, without joining them first.
    public static func hash(_ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("OpenSSL could not allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        var succeeded = EVP_DigestInit_ex(context, SHA256.fetched, nil) == 1
        succeeded = succeeded && first.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) } == 1
        succeeded = succeeded && second.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) } == 1
        succeeded = succeeded && EVP_DigestFinal_ex(context, &digest, &length) == 1
        precondition(succeeded && length == 32, "OpenSSL's SHA-256 failed")
        return digest
    }

    /// The digest of `string`'s UTF-8 bytes, as 64 lowercase hexadecimal digits.
    public static func hexDigest(of string: String) -> String {
        hash(Array(string.utf8)).hexString
    }
}

extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hexadecimal digits.
    public var hexString: String {
        let digits = HexDigits.lowercase
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
