import struct Foundation.UUID
import WeicheCore

/// Writes FHIR JSON straight into bytes, indented by two spaces, as the document is walked:
/// no tree of values is built first.
///
/// Members are written in the order FHIR readers expect and that makes the same referral give
/// the same bytes: `resourceType` first, then `id`, then the other members by name. The caller
/// writes them in that order; debug builds (and so the tests) check it at every member.
///
/// Building each Bundle as a tree first — `[String: Any]`, later typed values sorted as they
/// were built — cost a fifth, then an eighth of the gateway's CPU (Docs/Performance.md).
///
///     var json = FHIRJSONWriter()
///     json.object { json in
///         json.member("resourceType", "Patient")
///         json.member("birthDate", day)
///     }
struct FHIRJSONWriter {
    private(set) var bytes: [UInt8] = []
    private var indent = 0
    /// Whether the open object or array already has a member or element.
    private var hasContent = false
    #if DEBUG
        /// The last member name written in each open object, to check their order.
        private var lastNames: [String?] = []
    #endif

    init(capacity: Int = 8192) {
        bytes.reserveCapacity(capacity)
    }

    /// The finished document, with a final line break.
    consuming func document() -> [UInt8] {
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    // MARK: - Values

    /// An object whose members `body` writes.
    mutating func object(_ body: (inout FHIRJSONWriter) -> Void) {
        #if DEBUG
            lastNames.append(nil)
            defer { lastNames.removeLast() }
        #endif
        open(UInt8(ascii: "{"))
        body(&self)
        close(UInt8(ascii: "}"))
    }

    /// An array whose elements `body` writes, each with an `element` call.
    mutating func array(_ body: (inout FHIRJSONWriter) -> Void) {
        open(UInt8(ascii: "["))
        body(&self)
        close(UInt8(ascii: "]"))
    }

    mutating func string(_ text: String) {
        JSONOutput.appendString(text, to: &bytes)
    }

    // MARK: - Members of an object

    mutating func member(_ name: StaticString, _ text: String) {
        key(name)
        string(text)
    }

    /// `name`: `prefix` (ASCII that needs no escaping), then `id` in lowercase, as one text.
    /// Written in place: no string is made for an id or a URL.
    mutating func member(_ name: StaticString, id: UUID, prefix: StaticString = "") {
        key(name)
        bytes.append(UInt8(ascii: "\""))
        prefix.withUTF8Buffer { bytes.append(contentsOf: $0) }
        id.appendLowercased(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func member(_ name: StaticString, _ number: Int) {
        key(name)
        bytes.append(contentsOf: String(number).utf8)
    }

    mutating func member(_ name: StaticString, _ flag: Bool) {
        key(name)
        bytes.append(contentsOf: (flag ? "true" : "false").utf8)
    }

    mutating func member(_ name: StaticString, object body: (inout FHIRJSONWriter) -> Void) {
        key(name)
        object(body)
    }

    mutating func member(_ name: StaticString, array body: (inout FHIRJSONWriter) -> Void) {
        key(name)
        array(body)
    }

    /// `name`: an array of one object.
    mutating func member(_ name: StaticString, arrayOfOne body: (inout FHIRJSONWriter) -> Void) {
        member(name, array: { $0.element(object: body) })
    }

    // MARK: - Elements of an array

    mutating func element(_ text: String) {
        separate()
        string(text)
    }

    mutating func element(object body: (inout FHIRJSONWriter) -> Void) {
        separate()
        object(body)
    }

    // MARK: - Layout

    private mutating func key(_ name: StaticString) {
        #if DEBUG
            let text = name.description
            if let last = lastNames[lastNames.count - 1] {
                assert(Self.precedes(last, text), "FHIR member '\(text)' written after '\(last)'")
            }
            lastNames[lastNames.count - 1] = text
        #endif
        separate()
        // A copy per piece: appending byte by byte checked the array's uniqueness and capacity
        // each time (Docs/Performance.md).
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        Self.keyEnd.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// What follows a member's name. The layout's texts are literals, not arrays: a static
    /// array is initialised lazily, and every use checked that it was (Docs/Performance.md).
    private static var keyEnd: StaticString { "\": " }

    /// A comma after the previous member or element, then a new line at the current indent.
    private mutating func separate() {
        let wasEmpty = !hasContent
        hasContent = true
        if indent < Self.newlineAndSpaces.utf8CodeUnitCount - 1 {
            // ",\n" and the indent in one copy, or from the line break on.
            Self.commaNewlineAndSpaces.withUTF8Buffer {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[(wasEmpty ? 1 : 0)...(indent + 1)]))
            }
        } else {
            if !wasEmpty { bytes.append(UInt8(ascii: ",")) }
            newline()
        }
    }

    private mutating func newline() {
        if indent < Self.newlineAndSpaces.utf8CodeUnitCount {
            Self.newlineAndSpaces.withUTF8Buffer { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[...indent])) }
        } else {
            bytes.append(UInt8(ascii: "\n"))
            bytes.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: indent))
        }
    }

    /// A line break and the spaces of every indent a Bundle reaches, copied from at once.
    private static var newlineAndSpaces: StaticString { "\n                                        " }
    /// The same after a comma.
    private static var commaNewlineAndSpaces: StaticString { ",\n                                        " }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        indent += 2
        hasContent = false
    }

    /// Closes on a line of its own, or right after the opening bracket when empty (`{}`).
    private mutating func close(_ bracket: UInt8) {
        indent -= 2
        if hasContent { newline() }
        bytes.append(bracket)
        // The enclosing object or array holds at least this value.
        hasContent = true
    }

    /// `resourceType`, then `id`, then the rest by name.
    static func precedes(_ left: String, _ right: String) -> Bool {
        func rank(_ name: String) -> Int { name == "resourceType" ? 0 : name == "id" ? 1 : 2 }
        let (leftRank, rightRank) = (rank(left), rank(right))
        return leftRank != rightRank ? leftRank < rightRank : left < right
    }
}
