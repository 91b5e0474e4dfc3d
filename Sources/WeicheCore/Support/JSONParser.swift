import Foundation

/// Why bytes are not a JSON document: what was wrong and at which byte (from 0).
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

extension JSONValue {
    /// Parses one JSON document (RFC 8259) from UTF-8 bytes: strict (no comments, no trailing
    /// commas, no duplicate member names, valid UTF-8 only), nested at most `maximumDepth` deep,
    /// and never crashes on any input. Numbers become `Double`s, as with `JSONDecoder`.
    public init(parsing bytes: [UInt8], maximumDepth: Int = 64) throws(JSONParseError) {
        // Concrete for the common case: the generic initialiser below is not specialised for
        // callers in other modules.
        self = try bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) in try JSONValue.parse(buffer, maximumDepth: maximumDepth) }
        }.get()
    }

    /// The same for any collection of bytes (copied first if it is not contiguous).
    public init(parsing bytes: some Collection<UInt8>, maximumDepth: Int = 64) throws(JSONParseError) {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try JSONValue.parse(buffer, maximumDepth: maximumDepth) }
        }
        let result = contiguous ?? Array(bytes).withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) in try JSONValue.parse(buffer, maximumDepth: maximumDepth) }
        }
        self = try result.get()
    }

    private static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maximumDepth: Int) throws(JSONParseError) -> JSONValue {
        var parser = JSONByteParser(bytes: buffer, maximumDepth: maximumDepth)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == buffer.count else { throw parser.failure("more text after the document") }
        return value
    }
}

/// A recursive-descent parser over a byte buffer; see ``JSONValue/init(parsing:maximumDepth:)``.
struct JSONByteParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    func failure(_ reason: String) -> JSONParseError {
        JSONParseError(offset: position, reason: reason)
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw failure("the document ends too early") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("a character that cannot begin a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - position >= count,
            (0..<count).allSatisfy({ bytes[position + $0] == word.utf8Start[$0] })
        else { throw failure("a misspelt literal (\(word))") }
        position += count
    }

    private mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maximumDepth else { throw failure("nested deeper than \(maximumDepth) levels") }
        position += 1
        var members = JSONObject()
        // Names seen, to refuse a name twice: searched in the list while objects are small,
        // hashed once they are large, so that hostile objects cannot make this quadratic.
        var names: Set<String>?
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("a member name in quotes is missing") }
            let nameOffset = position
            let name = try string()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw failure("':' is missing after a member name") }
            position += 1
            skipWhitespace()
            let member = try value(depth: depth)
            if names == nil, members.count >= 16 { names = Set(members.keys) }
            let repeated = names != nil ? !names!.insert(name).inserted : members[name] != nil
            guard !repeated else {
                throw JSONParseError(offset: nameOffset, reason: "a member name appears twice in one object")
            }
            members.append(name, member)
            skipWhitespace()
            guard position < bytes.count else { throw failure("the document ends inside an object") }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            default: throw failure("',' or '}' is missing in an object")
            }
        }
    }

    private mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maximumDepth else { throw failure("nested deeper than \(maximumDepth) levels") }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw failure("the document ends inside an array") }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(elements)
            default: throw failure("',' or ']' is missing in an array")
            }
        }
    }

    /// A string: the bytes between the quotes are taken as they are unless they hold an escape.
    mutating func string() throws(JSONParseError) -> String {
        position += 1
        let start = position
        // The high bits of every byte seen: all clear means ASCII, which needs no UTF-8 check.
        var highBits: UInt64 = 0
        while position < bytes.count {
            // Eight bytes at a time while none of them ends the string, escapes or is a control character.
            if bytes.count - position >= 8 {
                let word = UnsafeRawBufferPointer(bytes).loadUnaligned(fromByteOffset: position, as: UInt64.self)
                if !JSONOutput.holdsByteToEscape(word) {
                    highBits |= word
                    position += 8
                    continue
                }
            }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                let content = UnsafeBufferPointer(rebasing: bytes[start..<position])
                let text = highBits & 0x8080_8080_8080_8080 == 0
                    ? String(decoding: content, as: UTF8.self) : Self.validated(content)
                guard let text else { throw JSONParseError(offset: start, reason: "a string is not valid UTF-8") }
                position += 1
                return text
            case UInt8(ascii: "\\"):
                return try escapedString(from: start)
            case 0..<0x20:
                throw failure("a control character in a string must be escaped")
            case let byte:
                highBits |= UInt64(byte)
                position += 1
            }
        }
        throw failure("a string is not closed")
    }

    /// The text of `bytes` if they are valid UTF-8. `String(decoding:)` replaces what is not
    /// valid with U+FFFD, so the bytes are valid exactly when the text kept them all.
    /// (`String(validating:as:)` looked up generic type metadata on every call, a cost per
    /// non-ASCII string of every referral; comparing with `elementsEqual` went a byte at a time.)
    static func validated(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.count == bytes.count else { return nil }
        guard !bytes.isEmpty else { return text }
        let same = text.withUTF8 { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
        return same ? text : nil
    }

    private mutating func escapedString(from start: Int) throws(JSONParseError) -> String {
        var scalars: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: scalars, as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "a string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw failure("a high surrogate escape is not followed by a low one")
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("a high surrogate escape is not followed by a low one") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw failure("a low surrogate escape without a high one")
                    }
                    scalars.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
                default:
                    throw failure("unknown escape in a string")
                }
            case 0..<0x20:
                throw failure("a control character in a string must be escaped")
            default:
                scalars.append(byte)
                position += 1
            }
        }
        throw failure("a string is not closed")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw failure("a \\u escape needs four hexadecimal digits") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape needs four hexadecimal digits")
            }
            code = code << 4 | UInt32(digit)
            position += 1
        }
        return code
    }

    /// A number in JSON's grammar (no leading zeros, no '+', no bare '.').
    private mutating func number() throws(JSONParseError) -> Double {
        let start = position
        func digits(_ parser: inout JSONByteParser) -> Int {
            let from = parser.position
            while parser.position < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.position]) {
                parser.position += 1
            }
            return parser.position - from
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits(&self)
        guard integerDigits > 0 else { throw failure("a number needs digits") }
        guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
            throw JSONParseError(offset: integerStart, reason: "a number must not start with 0")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits(&self) > 0 else { throw failure("a number needs digits after '.'") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits(&self) > 0 else { throw failure("a number needs digits in its exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let number = Double(text), number.isFinite else { throw JSONParseError(offset: start, reason: "a number is out of range") }
        return number
    }
}
