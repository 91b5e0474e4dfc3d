import WeicheCore

/// A JSON value as the FHIR writer builds it: typed, with no dictionaries and no `Any`.
///
/// Building Bundles as `[String: Any]` trees cost a dictionary per object, a box per value and
/// dynamic casts while writing: about a fifth of the gateway's CPU when a quarter of the
/// referrals went to health partners (Docs/Performance.md). Literals read as they did:
/// `["system": "urn:…", "code": .string(code)]`.
enum FHIRJSON: Sendable, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByBooleanLiteral
{
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case array([FHIRJSON])
    case object(FHIRObject)

    init(stringLiteral value: String) { self = .string(value) }
    init(arrayLiteral elements: FHIRJSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, FHIRJSON)...) { self = .object(FHIRObject(elements)) }
    init(booleanLiteral value: Bool) { self = .boolean(value) }
}

/// A JSON object's members, kept in the order FHIR readers expect: `resourceType` first,
/// then `id`, then the other members by name. Deterministic, so the same referral always
/// gives the same bytes.
struct FHIRObject: Sendable, ExpressibleByDictionaryLiteral {
    fileprivate private(set) var members: [(name: String, value: FHIRJSON)]

    init(_ members: [(String, FHIRJSON)]) {
        self.members = members.map { (name: $0.0, value: $0.1) }
        self.members.sort { Self.precedes($0.name, $1.name) }
    }

    init(dictionaryLiteral elements: (String, FHIRJSON)...) { self.init(elements) }

    var isEmpty: Bool { members.isEmpty }

    /// Setting a member that is present replaces its value; setting nil removes it.
    subscript(name: String) -> FHIRJSON? {
        get { members.first { $0.name == name }?.value }
        set {
            let index = members.firstIndex { !Self.precedes($0.name, name) } ?? members.endIndex
            let present = index < members.endIndex && members[index].name == name
            switch (present, newValue) {
            case let (true, value?): members[index].value = value
            case (true, nil): members.remove(at: index)
            case let (false, value?): members.insert((name, value), at: index)
            case (false, nil): break
            }
        }
    }

    /// `resourceType`, then `id`, then the rest by name.
    static func precedes(_ left: String, _ right: String) -> Bool {
        func rank(_ name: String) -> Int { name == "resourceType" ? 0 : name == "id" ? 1 : 2 }
        let (leftRank, rightRank) = (rank(left), rank(right))
        return leftRank != rightRank ? leftRank < rightRank : left < right
    }
}

/// Writes JSON the way FHIR readers expect it: members in ``FHIRObject``'s order, indented by
/// two spaces.
enum FHIRJSONWriter {
    static func write(_ object: FHIRObject) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(8192)
        write(object, indent: 0, into: &output)
        output.append(UInt8(ascii: "\n"))
        return output
    }

    private static func newline(_ indent: Int, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
    }

    private static func write(_ value: FHIRJSON, indent: Int, into output: inout [UInt8]) {
        switch value {
        case .string(let text): JSONOutput.appendString(text, to: &output)
        case .integer(let number): output.append(contentsOf: String(number).utf8)
        case .boolean(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .array(let elements): write(elements, indent: indent, into: &output)
        case .object(let object): write(object, indent: indent, into: &output)
        }
    }

    private static func write(_ object: FHIRObject, indent: Int, into output: inout [UInt8]) {
        guard !object.isEmpty else { output.append(contentsOf: "{}".utf8); return }
        output.append(UInt8(ascii: "{"))
        for (index, member) in object.members.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            newline(indent + 2, into: &output)
            JSONOutput.appendString(member.name, to: &output)
            output.append(contentsOf: ": ".utf8)
            write(member.value, indent: indent + 2, into: &output)
        }
        newline(indent, into: &output)
        output.append(UInt8(ascii: "}"))
    }

    private static func write(_ elements: [FHIRJSON], indent: Int, into output: inout [UInt8]) {
        guard !elements.isEmpty else { output.append(contentsOf: "[]".utf8); return }
        output.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            newline(indent + 2, into: &output)
            write(element, indent: indent + 2, into: &output)
        }
        newline(indent, into: &output)
        output.append(UInt8(ascii: "]"))
    }
}
