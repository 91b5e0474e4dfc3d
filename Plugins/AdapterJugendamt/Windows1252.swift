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
        let start = bytes.count
        var text = text
        // From the UTF-8 bytes: ASCII and the Latin-1 letters (two-byte sequences for U+00A0 to
        // U+00FF) by arithmetic, every other character by its scalar through the table.
        let succeeded = text.withUTF8 { utf8 -> Bool in
            var index = 0
            while index < utf8.count {
                let lead = utf8[index]
                if lead < 0x80 {
                    // A run of ASCII in one copy: byte by byte, each append checked the array.
                    var end = index + 1
                    while end < utf8.count && utf8[end] < 0x80 { end += 1 }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[index..<end]))
                    index = end
                    continue
                }
                let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
                if length == 2, lead == 0xC3 || (lead == 0xC2 && utf8[index + 1] >= 0xA0) {
                    bytes.append((lead & 0x03) << 6 | (utf8[index + 1] & 0x3F))
                    index += 2
                    continue
                }
                var value = UInt32(lead) & (0xFF >> (length + 1))
                for offset in 1..<length { value = value << 6 | UInt32(utf8[index + offset] & 0x3F) }
                guard let scalar = Unicode.Scalar(value), let position = high.firstIndex(of: scalar) else { return false }
                bytes.append(0x80 + UInt8(position))
                index += length
            }
            return true
        }
        if !succeeded { bytes.removeSubrange(start...) }
        return succeeded
    }
}
