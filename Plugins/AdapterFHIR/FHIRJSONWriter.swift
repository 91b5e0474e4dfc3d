/// Writes JSON the way FHIR readers expect it: `resourceType` first, then `id`, then the other
/// members in name order, indented by two spaces. Deterministic, so the same referral always
/// gives the same bytes.
enum FHIRJSONWriter {
    enum Failure: Error { case unsupported }

    static func write(_ value: Any) throws(Failure) -> [UInt8] {
        var output = ""
        try write(value, indent: "", into: &output)
        output += "\n"
        return Array(output.utf8)
    }

    private static func write(_ value: Any, indent: String, into output: inout String) throws(Failure) {
        let inner = indent + "  "
        switch value {
        case let object as [String: Any]:
            guard !object.isEmpty else { output += "{}"; return }
            output += "{\n"
            for (index, key) in orderedKeys(object).enumerated() {
                output += inner
                quote(key, into: &output)
                output += ": "
                try write(object[key]!, indent: inner, into: &output)
                output += index == object.count - 1 ? "\n" : ",\n"
            }
            output += indent + "}"
        case let array as [Any]:
            guard !array.isEmpty else { output += "[]"; return }
            output += "[\n"
            for (index, element) in array.enumerated() {
                output += inner
                try write(element, indent: inner, into: &output)
                output += index == array.count - 1 ? "\n" : ",\n"
            }
            output += indent + "]"
        case let text as String: quote(text, into: &output)
        case let flag as Bool: output += flag ? "true" : "false"
        case let number as Int: output += String(number)
        default: throw .unsupported
        }
    }

    private static func orderedKeys(_ object: [String: Any]) -> [String] {
        let leading = ["resourceType", "id"].filter { object[$0] != nil }
        return leading + object.keys.filter { !leading.contains($0) }.sorted()
    }

    private static func quote(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
