/// Windows-1252 text, the Jugendamt system's encoding: ASCII, the Latin-1 letters, and
/// typographic characters in 0x80–0x9F. Five bytes there (0x81, 0x8D, 0x8F, 0x90, 0x9D) are
/// undefined: a file containing them is not Windows-1252 text.
enum Windows1252 {
    /// The characters for bytes 0x80–0x9F; `nil` where the byte is undefined.
    private static let high: [Unicode.Scalar?] = [
        "\u{20AC}", nil, "\u{201A}", "\u{0192}", "\u{201E}", "\u{2026}", "\u{2020}", "\u{2021}",
        "\u{02C6}", "\u{2030}", "\u{0160}", "\u{2039}", "\u{0152}", nil, "\u{017D}", nil,
        nil, "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{2022}", "\u{2013}", "\u{2014}",
        "\u{02DC}", "\u{2122}", "\u{0161}", "\u{203A}", "\u{0153}", nil, "\u{017E}", "\u{0178}",
    ]

    /// Decodes `bytes`; on failure, the offset of the first byte that is not Windows-1252.
    static func decode(_ bytes: [UInt8]) -> Result<String, DecodingFailure> {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for (offset, byte) in bytes.enumerated() {
            if byte < 0x80 || byte >= 0xA0 {
                scalars.append(Unicode.Scalar(byte))
            } else if let scalar = high[Int(byte - 0x80)] {
                scalars.append(scalar)
            } else {
                return .failure(DecodingFailure(offset: offset))
            }
        }
        return .success(String(scalars))
    }

    struct DecodingFailure: Error {
        var offset: Int
    }

    /// Appends `text` encoded; false, with `bytes` as they were, if it holds a character
    /// Windows-1252 cannot represent.
    static func append(_ text: String, to bytes: inout [UInt8]) -> Bool {
        // ASCII is the same in both encodings.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            bytes.append(contentsOf: text.utf8)
            return true
        }
        let start = bytes.count
        for scalar in text.unicodeScalars {
            if scalar.value < 0x80 || (0xA0...0xFF).contains(scalar.value) {
                bytes.append(UInt8(scalar.value))
            } else if let index = high.firstIndex(of: scalar) {
                bytes.append(0x80 + UInt8(index))
            } else {
                bytes.removeSubrange(start...)
                return false
            }
        }
        return true
    }
}
