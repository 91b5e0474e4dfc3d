import struct Foundation.UUID
import typealias Foundation.uuid_t

// Concrete on `String`, not generic over `StringProtocol`: a generic function of this module is
// not specialised for its callers in other modules, and every call then looks up type
// metadata — a generic `UUID(parsing:)` cost more than the `sscanf` it replaced.
extension String {
    /// `==` for names looked up in short lists (a JSON object's members, a referral's fields):
    /// texts of different UTF-8 lengths are told apart by their stored lengths, without the
    /// comparison `==` makes, which most of a search's candidates failed. Names that are
    /// canonically equivalent but of different lengths, such as a KELVIN SIGN for a `K`,
    /// count as different, as JSON compares member names (RFC 8259, section 8.3).
    @inlinable
    public func isSameName(as other: String) -> Bool {
        utf8.count == other.utf8.count && self == other
    }

    /// Whether the text is empty or only white space: Unicode's `White_Space` (spaces, tabs,
    /// line breaks, U+0085, U+00A0 and the other space separators) and the zero-width space
    /// U+200B. The same answer as trimming Foundation's `.whitespacesAndNewlines` and asking
    /// for emptiness, without building a trimmed copy: it stops at the first other character.
    public var isBlank: Bool {
        // ASCII is decided by its byte; from the first other byte on, by the scalars' property.
        for byte in utf8 {
            switch byte {
            case 0x09...0x0D, 0x20: continue
            case 0x80...: return unicodeScalars.allSatisfy { $0.properties.isWhitespace || $0 == "\u{200B}" }
            default: return false
            }
        }
        return true
    }
}

extension UUID {
    /// The UUID `text` spells: 36 characters, hyphens at 8, 13, 18 and 23, hexadecimal digits
    /// of either case elsewhere. The same UUID as `UUID(uuidString:)` gives, without its
    /// `sscanf` (a profile's largest cost in reading a MaßArbeit referral's ids), and stricter:
    /// `sscanf` also lets through a space, a sign or a short group of digits.
    public init?(parsing text: String) {
        guard text.utf8.count == 36 else { return nil }
        var text = text
        guard let bytes = text.withUTF8({ UUID.parse($0) }) else { return nil }
        let (high, low) = (bytes.0.bigEndian, bytes.1.bigEndian)
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { raw in
            raw.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
        }
        self.init(uuid: uuid)
    }

    /// The 32 hexadecimal digits of a 36-byte UUID text as two numbers, or nil.
    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        var bytes = (0 as UInt64, 0 as UInt64)
        var count = 0
        for (index, byte) in text.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            if count < 16 { bytes.0 = bytes.0 << 4 | UInt64(digit) } else { bytes.1 = bytes.1 << 4 | UInt64(digit) }
            count += 1
        }
        return count == 32 ? bytes : nil
    }

    /// `uuidString.lowercased()`, the form in which Weiche writes ids into documents and file
    /// names, without `uuidString`'s `sprintf` and a second, lowercased copy.
    public var lowercasedString: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            appendHex(digits: HexDigits.lowercase) { byte in
                buffer[index] = byte
                index += 1
            }
            return index
        }
    }

    /// Appends ``lowercasedString``'s 36 bytes to `bytes`, without making the string.
    public func appendLowercased(to bytes: inout [UInt8]) {
        appendHex(digits: HexDigits.lowercase) { bytes.append($0) }
    }

    /// Calls `append` with the 36 ASCII bytes of the UUID's text form (hyphens at 8, 13, 18
    /// and 23), its hex digits taken from `digits`.
    func appendHex(digits: [UInt8], _ append: (UInt8) -> Void) {
        withUnsafeBytes(of: uuid) { raw in
            for (index, value) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { append(UInt8(ascii: "-")) }
                append(digits[Int(value >> 4)])
                append(digits[Int(value & 0x0f)])
            }
        }
    }
}

/// The hexadecimal digits as ASCII bytes, for writers that spell out bytes: one table for ids,
/// digests and escapes.
public enum HexDigits {
    public static let lowercase: [UInt8] = Array("0123456789abcdef".utf8)
    public static let uppercase: [UInt8] = Array("0123456789ABCDEF".utf8)
}
