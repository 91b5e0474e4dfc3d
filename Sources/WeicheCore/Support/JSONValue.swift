/// A parsed JSON document, kept as its JSON types so that validation can say exactly which
/// type a value has and where it is. For adapters and configuration: parse with
/// `JSONDecoder().decode(JSONValue.self, from:)` (which bounds nesting depth), then walk it.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !array.isAtEnd { elements.append(try array.decode(JSONValue.self)) }
            self = .array(elements)
            return
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var members = JSONObject()
            for key in object.allKeys { members.append(key.stringValue, try object.decode(JSONValue.self, forKey: key)) }
            self = .object(members)
            return
        }
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .null
        } else if let bool = try? value.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? value.decode(Double.self) {
            self = .number(number)
        } else {
            self = .string(try value.decode(String.self))
        }
    }

    /// The JSON type's name, for messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// A JSON object's members in document order. Objects in referrals are small (a few to a few
/// dozen members), so a list searched by name is cheaper to build, read and free than a
/// dictionary, which hashed every name (Docs/Performance.md). It reads like one:
/// `object["name"]`, `keys`, `count`, and iteration as `(key, value)`, in document order.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)
    private var members: [Element] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        for (key, value) in elements where self[key] == nil { append(key, value) }
    }

    /// Adds a member; the caller makes sure the name is not there yet (the parser refuses
    /// duplicates, see ``JSONValue/init(parsing:maximumDepth:)``).
    mutating func append(_ key: String, _ value: JSONValue) {
        members.append((key, value))
    }

    public subscript(key: String) -> JSONValue? {
        members.first { $0.key.isSameName(as: key) }?.value
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var first: Element? { members.first }
    public var keys: [String] { members.map(\.key) }
    public func makeIterator() -> IndexingIterator<[Element]> { members.makeIterator() }

    /// Equal when they have the same names with equal values, in any order (as JSON objects are).
    public static func == (left: JSONObject, right: JSONObject) -> Bool {
        left.count == right.count && left.members.allSatisfy { right[$0.key] == $0.value }
    }
}
