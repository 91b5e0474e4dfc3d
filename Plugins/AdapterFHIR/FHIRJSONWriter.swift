import WeicheCore

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

    /// Dispatches on the exact dynamic type the writer's literals produce (`String`,
    /// `[String: String]`, `[[String: Any]]`, …) before any conditional cast: casting, say, a
    /// `[String: String]` to `[String: Any]` copies and boxes every value, and was most of the
    /// writing time. Other shapes still work through the general casts at the end.
    private static func write(_ value: Any, indent: Int, into output: inout [UInt8]) throws(Failure) {
        let kind = type(of: value)
        if kind == String.self {
            quote(value as! String, into: &output)
        } else if kind == [String: Any].self {
            let object = value as! [String: Any]
            try writeObject(object.count, keys: orderedKeys(object.keys), indent: indent, into: &output) { object[$0]! }
        } else if kind == [String: String].self {
            let object = value as! [String: String]
            try writeObject(object.count, keys: orderedKeys(object.keys), indent: indent, into: &output) { object[$0]! }
        } else if kind == [[String: Any]].self {
            try writeArray(value as! [[String: Any]], indent: indent, into: &output)
        } else if kind == [[String: String]].self {
            try writeArray(value as! [[String: String]], indent: indent, into: &output)
        } else if kind == [String].self {
            try writeArray(value as! [String], indent: indent, into: &output)
        } else if kind == [Any].self {
            try writeArray(value as! [Any], indent: indent, into: &output)
        } else if let flag = value as? Bool {
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        } else if let number = value as? Int {
            output.append(contentsOf: String(number).utf8)
        } else if let object = value as? [String: Any] {
            try writeObject(object.count, keys: orderedKeys(object.keys), indent: indent, into: &output) { object[$0]! }
        } else if let array = value as? [Any] {
            try writeArray(array, indent: indent, into: &output)
        } else {
            throw .unsupported
        }
    }

    private static func writeObject(
        _ count: Int, keys: [String], indent: Int, into output: inout [UInt8], member: (String) -> Any
    ) throws(Failure) {
        guard count > 0 else { output.append(contentsOf: "{}".utf8); return }
        output.append(UInt8(ascii: "{"))
        for (index, key) in keys.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            newline(indent + 2, into: &output)
            quote(key, into: &output)
            output.append(contentsOf: ": ".utf8)
            try write(member(key), indent: indent + 2, into: &output)
        }
        newline(indent, into: &output)
        output.append(UInt8(ascii: "}"))
    }

    private static func writeArray<Element>(_ array: [Element], indent: Int, into output: inout [UInt8]) throws(Failure) {
        guard !array.isEmpty else { output.append(contentsOf: "[]".utf8); return }
        output.append(UInt8(ascii: "["))
        for (index, element) in array.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            newline(indent + 2, into: &output)
            try write(element, indent: indent + 2, into: &output)
        }
        newline(indent, into: &output)
        output.append(UInt8(ascii: "]"))
    }

    private static func orderedKeys(_ keys: some Collection<String>) -> [String] {
        var rest = keys.filter { $0 != "resourceType" && $0 != "id" }
        rest.sort()
        var ordered: [String] = []
        ordered.reserveCapacity(keys.count)
        if keys.contains("resourceType") { ordered.append("resourceType") }
        if keys.contains("id") { ordered.append("id") }
        return ordered + rest
    }

    /// A JSON string as WeicheCore's `JSONOutput` writes it (`"`, `\` and control characters escaped).
    private static func quote(_ text: String, into output: inout [UInt8]) {
        JSONOutput.appendString(text, to: &output)
    }
}
