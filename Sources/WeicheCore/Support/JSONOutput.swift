import struct Foundation.UUID

/// JSON written straight into UTF-8 bytes, for the hot paths where `JSONEncoder` (which builds
/// a tree of boxed values first) would cost more than the work itself. The caller writes the
/// structure; this type writes strings, numbers and separators the way `JSONEncoder` does with
/// `.withoutEscapingSlashes`, so the bytes are the same as its output for the same values.
public struct JSONOutput: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// A JSON array of `elements`, each written by `write`: the brackets and commas around
    /// hand-written rows. `bytesEach` sizes the buffer.
    /// Inlinable, so that it is specialised for the row types of other modules instead of
    /// looking up their type metadata on every element.
    @inlinable
    public static func array<Element>(_ elements: [Element], bytesEach: Int, _ write: (Element, inout JSONOutput) -> Void) -> [UInt8] {
        var output = JSONOutput(capacity: elements.count * bytesEach + 2)
        output.bytes.append(UInt8(ascii: "["))
        for index in elements.indices {
            if index > 0 { output.bytes.append(UInt8(ascii: ",")) }
            write(elements[index], &output)
        }
        output.bytes.append(UInt8(ascii: "]"))
        return output.bytes
    }

    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func raw(_ other: [UInt8]) {
        bytes.append(contentsOf: other)
    }

    public mutating func raw(_ other: ArraySlice<UInt8>) {
        bytes.append(contentsOf: other)
    }

    public mutating func byte(_ ascii: Unicode.Scalar) {
        bytes.append(UInt8(ascii: ascii))
    }

    /// `"name":` — a member name (which must need no escaping) and its colon.
    public mutating func key(_ name: StaticString) {
        byte("\"")
        raw(name)
        raw("\":")
    }

    /// A string, or `null`.
    public mutating func optionalString(_ text: String?) {
        if let text { string(text) } else { raw("null") }
    }

    public mutating func integer(_ value: Int) {
        if value == 0 { byte("0"); return }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
        }
        if value < 0 { byte("-") }
        withUnsafeBytes(of: &digits) { bytes.append(contentsOf: $0[(20 - count)...]) }
    }

    /// A UUID as a string, uppercase like `UUID.uuidString` (which formats through `sprintf`).
    public mutating func uuid(_ id: UUID) {
        byte("\"")
        id.appendHex(digits: HexDigits.uppercase) { bytes.append($0) }
        byte("\"")
    }

    public mutating func boolean(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\b`, `\f`, `\n`, `\r`, `\t`
    /// or `\u00XX`; every other byte of the UTF-8 text as it is.
    public mutating func string(_ text: String) {
        Self.appendString(text, to: &bytes)
    }

    /// ``string(_:)`` for writers that keep their own byte buffer.
    public static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Runs of bytes that need no escape are appended at once; eight bytes at a time
            // are checked for one that does.
            let count = utf8.count
            var runStart = 0
            var index = 0
            while index < count {
                if index + 8 <= count, !holdsByteToEscape(UnsafeRawBufferPointer(utf8).loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                    index += 8
                    continue
                }
                let end = min(index + 8, count)
                while index < end {
                    let byte = utf8[index]
                    if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                        runStart = index + 1
                        appendEscape(byte, to: &bytes)
                    }
                    index += 1
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether any of the eight bytes in `word` is below 0x20, a quote or a backslash (the
    /// classic "has a zero byte" bit tests, which answer exactly whether there is one).
    @inline(__always)
    static func holdsByteToEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let hasControl = (word &- ones &* 0x20) & ~word & highs != 0
        return hasControl || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
    }

    private static func appendEscape(_ byte: UInt8, to bytes: inout [UInt8]) {
        let escape: StaticString? = switch byte {
        case UInt8(ascii: "\""): "\\\""
        case UInt8(ascii: "\\"): "\\\\"
        case 0x08: "\\b"
        case 0x0C: "\\f"
        case UInt8(ascii: "\n"): "\\n"
        case UInt8(ascii: "\r"): "\\r"
        case UInt8(ascii: "\t"): "\\t"
        default: nil
        }
        if let escape {
            bytes.append(contentsOf: UnsafeBufferPointer(start: escape.utf8Start, count: escape.utf8CodeUnitCount))
        } else {
            bytes.append(contentsOf: "\\u00".utf8)
            bytes.append(HexDigits.lowercase[Int(byte >> 4)])
            bytes.append(HexDigits.lowercase[Int(byte & 0x0f)])
        }
    }
}
