/// An agency's identifier in Weiche's configuration, such as `massarbeit` or `jugendamt`:
/// lowercase letters, digits and hyphens, starting with a letter, at most 64 characters.
public struct AgencyID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`; returns `nil` if it is not a well-formed identifier.
    public init?(_ rawValue: String) {
        guard Self.isWellFormed(rawValue, allowing: "-") else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = AgencyID(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "not an agency id (lowercase letters, digits, '-', starting with a letter)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: AgencyID, rhs: AgencyID) -> Bool { lhs.rawValue < rhs.rawValue }

    static func isWellFormed(_ text: String, allowing extra: Character) -> Bool {
        guard let first = text.first, first.isASCII, first.isLowercase, text.count <= 64 else { return false }
        return text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == extra || $0 == "-" }
    }
}

/// A referral type, such as `kinderbetreuung.anfrage`: lowercase words joined by `.` and `-`.
public struct ReferralType: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`; returns `nil` if it is not a well-formed type name.
    public init?(_ rawValue: String) {
        guard AgencyID.isWellFormed(rawValue, allowing: "."), !rawValue.hasSuffix("."), !rawValue.contains("..") else {
            return nil
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let type = ReferralType(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "not a referral type (e.g. kinderbetreuung.anfrage)"))
        }
        self = type
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: ReferralType, rhs: ReferralType) -> Bool { lhs.rawValue < rhs.rawValue }
}
