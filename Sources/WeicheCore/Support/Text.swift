import struct Foundation.UUID

extension StringProtocol {
    /// Whether the text is empty or only white space: Unicode's `White_Space` (spaces, tabs,
    /// line breaks, U+0085, U+00A0 and the other space separators) and the zero-width space
    /// U+200B. The same answer as trimming Foundation's `.whitespacesAndNewlines` and asking
    /// for emptiness, without building a trimmed copy: it stops at the first other character.
    public var isBlank: Bool {
        unicodeScalars.allSatisfy { $0.properties.isWhitespace || $0 == "\u{200B}" }
    }
}

extension UUID {
    /// `uuidString.lowercased()`, the form in which Weiche writes ids into documents and file
    /// names, without `uuidString`'s `sprintf` and a second, lowercased copy.
    public var lowercasedString: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            appendHex(digits: UUID.lowerHex) { byte in
                buffer[index] = byte
                index += 1
            }
            return index
        }
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

    static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)
    static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)
}
