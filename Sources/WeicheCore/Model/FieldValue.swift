/// The value of one referral field, independent of any agency's format.
///
/// In JSON it is an object with one key naming the kind: `{"text": "Muster"}`,
/// `{"integer": 2}`, `{"boolean": true}`, `{"day": "1990-04-01"}`, `{"list": [ … ]}`.
public indirect enum FieldValue: Hashable, Sendable, Codable {
    case text(String)
    case integer(Int)
    case boolean(Bool)
    /// A calendar day, `yyyy-MM-dd` (no time zone: birth dates, start dates).
    case day(String)
    case list([FieldValue])

    private enum Kind: String, CodingKey {
        case text, integer, boolean, day, list
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Kind.self)
        guard container.allKeys.count == 1, let kind = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "a field value is an object with exactly one of: text, integer, boolean, day, list"))
        }
        switch kind {
        case .text: self = .text(try container.decode(String.self, forKey: kind))
        case .integer: self = .integer(try container.decode(Int.self, forKey: kind))
        case .boolean: self = .boolean(try container.decode(Bool.self, forKey: kind))
        case .day: self = .day(try container.decode(String.self, forKey: kind))
        case .list: self = .list(try container.decode([FieldValue].self, forKey: kind))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Kind.self)
        switch self {
        case .text(let text): try container.encode(text, forKey: .text)
        case .integer(let number): try container.encode(number, forKey: .integer)
        case .boolean(let flag): try container.encode(flag, forKey: .boolean)
        case .day(let day): try container.encode(day, forKey: .day)
        case .list(let values): try container.encode(values, forKey: .list)
        }
    }
}

/// One piece of a referral's content: where it is (`name`, a dotted path such as
/// `person.familyName` or `details.children`), what it is worth, and which data category it
/// belongs to — which decides who may receive it.
public struct ReferralField: Hashable, Sendable, Codable {
    public var name: String
    public var category: DataCategory
    public var value: FieldValue

    public init(_ name: String, _ category: DataCategory, _ value: FieldValue) {
        self.name = name
        self.category = category
        self.value = value
    }
}
