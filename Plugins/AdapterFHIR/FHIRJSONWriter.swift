/// Writes JSON the way FHIR readers expect it: `resourceType` first, then `id`, then the other
/// members in name order, indented by two spaces. Deterministic, so the same referral always
/// gives the same bytes. Writes UTF-8 bytes directly (building a `String` scalar by scalar
/// was the gateway's largest cost when delivering to health partners).
enum FHIRJSONWriter {
    enum Failure: Error { case unsupported }

    static func write(_ value: Any) throws(Failure) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(8192)
        try write(value, indent: 0, into: &output)
        output.append(UInt8(ascii: "\n"))
        return output
    }

    private static func newline(_ indent: Int, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
    }

    private static func write(_ value: Any, indent: Int, into output: inout [UInt8]) throws(Failure) {
        switch value {
        case let object as [String: Any]:
            guard !object.isEmpty else { output.append(contentsOf: "{}".utf8); return }
            output.append(UInt8(ascii: "{"))
            for (index, key) in orderedKeys(object).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 2, into: &output)
                quote(key, into: &output)
                output.append(contentsOf: ": ".utf8)
                try write(object[key]!, indent: indent + 2, into: &output)
            }
            newline(indent, into: &output)
            output.append(UInt8(ascii: "}"))
        case let array as [Any]:
            guard !array.isEmpty else { output.append(contentsOf: "[]".utf8); return }
            output.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 2, into: &output)
                try write(element, indent: indent + 2, into: &output)
            }
            newline(indent, into: &output)
            output.append(UInt8(ascii: "]"))
        case let text as String: quote(text, into: &output)
        case let flag as Bool: output.append(contentsOf: (flag ? "true" : "false").utf8)
        case let number as Int: output.append(contentsOf: String(number).utf8)
        default: throw .unsupported
        }
    }

    private static func orderedKeys(_ object: [String: Any]) -> [String] {
        let leading = ["resourceType", "id"].filter { object[$0] != nil }
        return leading + object.keys.filter { !leading.contains($0) }.sorted()
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\r`, `\t` or `\u00XX`;
    /// every other byte of the UTF-8 text as it is.
    private static func quote(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0f)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
