import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small, bounded XML element tree, parsed safely: documents with a DTD (`<!DOCTYPE`) or
/// entity declarations are refused before any parsing, so no entity is ever expanded and
/// nothing external is ever fetched; depth and element count are bounded.
struct XMLElement {
    var name: String
    var namespace: String?
    var attributes: [String: String]
    var text: String
    var children: [XMLElement]

    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }

    /// The trimmed text of the child `name`, if present and not empty.
    func value(_ name: String) -> String? {
        child(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    static let maximumDepth = 32
    static let maximumElements = 10_000

    struct ParseError: Error {
        var reason: String
    }

    /// Parses `bytes`, or says why not.
    static func parse(_ bytes: [UInt8]) -> Result<XMLElement, ParseError> {
        // FoundationXML traps on element names that are not valid UTF-8, so nothing that is not
        // UTF-8 reaches it: the format is UTF-8, and a document declaring anything else is refused.
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(ParseError(reason: "not valid UTF-8"))
        }
        if let declaration = text.prefix(200).range(of: "?>").map({ text[..<$0.upperBound] }), declaration.hasPrefix("<?xml"),
            let encoding = declaration.range(of: "encoding=")
        {
            let value = declaration[encoding.upperBound...].dropFirst().prefix { $0 != "\"" && $0 != "'" }
            if value.lowercased() != "utf-8" { return .failure(ParseError(reason: "the document must be UTF-8")) }
        }
        if containsDeclaration(bytes) {
            return .failure(ParseError(reason: "the document declares a DTD or entities, which are not accepted"))
        }
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.shouldReportNamespacePrefixes = false
        let builder = Builder()
        parser.delegate = builder
        let parsed = parser.parse()
        if let failure = builder.failure { return .failure(ParseError(reason: failure)) }
        guard parsed, let root = builder.root else {
            return .failure(ParseError(reason: "not well-formed XML (line \(parser.lineNumber))"))
        }
        return .success(root)
    }

    /// Whether the document contains `<!DOCTYPE` or `<!ENTITY` (any case), in UTF-8 or ASCII.
    static func containsDeclaration(_ bytes: [UInt8]) -> Bool {
        let patterns = ["<!doctype", "<!entity"].map { Array($0.utf8) }
        guard bytes.count >= 8 else { return false }
        for start in 0...(bytes.count - 8) where bytes[start] == 0x3C && bytes[start + 1] == 0x21 {
            for pattern in patterns where start + pattern.count <= bytes.count {
                if zip(pattern, bytes[start..<(start + pattern.count)]).allSatisfy({ $0 == $1 | ($1 >= 0x41 && $1 <= 0x5A ? 0x20 : 0) }) {
                    return true
                }
            }
        }
        return false
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLElement] = []
        var root: XMLElement?
        var count = 0
        var failure: String?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            count += 1
            if stack.count >= XMLElement.maximumDepth || count > XMLElement.maximumElements {
                failure = "the document is nested too deeply or has too many elements"
                parser.abortParsing()
                return
            }
            stack.append(XMLElement(name: name, namespace: namespaceURI, attributes: attributes, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            if stack[stack.count - 1].text.utf8.count + string.utf8.count > 100_000 {
                failure = "an element holds too much text"
                parser.abortParsing()
                return
            }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let element = stack.popLast() else { return }
            if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
        }

        func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
            failure = "the document declares entities, which are not accepted"
            parser.abortParsing()
        }

        func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
            failure = "the document refers to an external entity, which is not accepted"
            parser.abortParsing()
            return nil
        }
    }
}

/// An XML document written straight into UTF-8 bytes, element by element.
struct XMLOutput {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(2048)
    }

    /// Markup as it is: the caller vouches that it is well-formed.
    mutating func raw(_ markup: String) {
        bytes.append(contentsOf: markup.utf8)
    }

    /// `<name>text</name>`, the text escaped; nothing when `text` is nil.
    mutating func element(_ name: String, _ text: String?) {
        guard let text else { return }
        bytes.append(UInt8(ascii: "<"))
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ">"))
        self.text(text)
        bytes.append(contentsOf: [UInt8(ascii: "<"), UInt8(ascii: "/")])
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ">"))
    }

    /// Text with `&`, `<`, `>` and `"` escaped, for content and attribute values alike.
    mutating func text(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            // Byte by byte: the four characters are ASCII and never part of a longer UTF-8
            // sequence. The runs between them are copied whole.
            var start = 0
            for (index, byte) in utf8.enumerated() {
                let escape: StaticString
                switch byte {
                case UInt8(ascii: "&"): escape = "&amp;"
                case UInt8(ascii: "<"): escape = "&lt;"
                case UInt8(ascii: ">"): escape = "&gt;"
                case UInt8(ascii: "\""): escape = "&quot;"
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                escape.withUTF8Buffer { bytes.append(contentsOf: $0) }
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
    }
}

