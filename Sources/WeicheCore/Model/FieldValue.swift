/// The value of one referral field, independent of any agency's format.
public indirect enum FieldValue: Hashable, Sendable, Codable {
    case text(String)
    case integer(Int)
    case boolean(Bool)
    /// A calendar day, `yyyy-MM-dd` (no time zone: birth dates, start dates).
    case day(String)
    case list([FieldValue])
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
