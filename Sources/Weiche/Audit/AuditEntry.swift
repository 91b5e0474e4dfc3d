import Foundation
import WeicheCore

/// One entry of the audit log as stored, with what its hash covers.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var seq: Int64
    /// When it happened, in microseconds since 1970-01-01 UTC (the database's precision).
    public var atMicroseconds: Int64
    public var actor: String
    public var kind: String
    /// The message's Weiche id, lowercase, if the event concerns a message.
    public var messageID: String?
    public var agencies: [String]
    /// The person concerned, as a keyed hash.
    public var subject: String?
    /// The structured details exactly as PostgreSQL prints the `jsonb` value.
    public var details: String
    /// `SHA-256(previous entry's hash ‖ canonical encoding of this entry)`, 64 hex digits.
    public var hash: String

    public init(
        seq: Int64, atMicroseconds: Int64, actor: String, kind: String, messageID: String?, agencies: [String], subject: String?,
        details: String, hash: String
    ) {
        self.seq = seq
        self.atMicroseconds = atMicroseconds
        self.actor = actor
        self.kind = kind
        self.messageID = messageID
        self.agencies = agencies
        self.subject = subject
        self.details = details
        self.hash = hash
    }

    /// The hash of the chain before the first entry.
    public static let genesisHash = String(repeating: "0", count: 64)

    public var at: Date { Date(timeIntervalSince1970: Double(atMicroseconds) / 1_000_000) }

    /// The bytes the hash covers: a version tag, then each field as its UTF-8 length, `:`, the
    /// field, `;` — the same encoding as the database's `audit_canonical`, computed here on our
    /// own so that verification does not trust the database's functions.
    public var canonical: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + actor.utf8.count + kind.utf8.count + details.utf8.count + 160)
        bytes.append(contentsOf: "weiche-audit/1;".utf8)
        func field(_ text: String) {
            bytes.append(contentsOf: String(text.utf8.count).utf8)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: ";"))
        }
        field(String(seq))
        field(String(atMicroseconds))
        field(actor)
        field(kind)
        field(messageID ?? "")
        field(agencies.joined(separator: ","))
        field(subject ?? "")
        field(details)
        return bytes
    }

    /// The hash this entry must have when it follows an entry whose hash is `previous`.
    public func expectedHash(after previous: [UInt8]) -> [UInt8] {
        SHA256.hash(previous, canonical)
    }

    /// Whether the stored hash is `digest` (compared without allocating).
    func hasHash(_ digest: [UInt8]) -> Bool {
        let hex = hash.utf8
        guard hex.count == digest.count * 2 else { return false }
        let (digits, upper) = (HexDigits.lowercase, HexDigits.uppercase)
        var index = hex.startIndex
        for byte in digest {
            let high = hex[index], low = hex[hex.index(after: index)]
            guard high == digits[Int(byte >> 4)] || high == upper[Int(byte >> 4)],
                low == digits[Int(byte & 0x0f)] || low == upper[Int(byte & 0x0f)]
            else { return false }
            index = hex.index(index, offsetBy: 2)
        }
        return true
    }
}

extension String {
    /// The bytes of a hexadecimal string, or `nil` if it is not one.
    public var hexBytes: [UInt8]? {
        let digits = Array(utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
