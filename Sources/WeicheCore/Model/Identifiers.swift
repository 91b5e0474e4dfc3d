/// A name with a fixed form (an agency id, a referral type), validated when it is made:
/// holding one means it is well-formed. Encoded in JSON as its plain string.
public protocol ValidatedName: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    var rawValue: String { get }
    /// Validates `rawValue`; `nil` if it does not have the required form.
    init?(_ rawValue: String)
    /// The required form in words, for error messages.
    static var requiredForm: String { get }
}

extension ValidatedName {
    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let name = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected \(Self.requiredForm)"))
        }
        self = name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// An agency's identifier in Weiche's configuration, such as `massarbeit` or `jugendamt`:
/// lowercase letters, digits and hyphens, starting with a letter, at most 64 characters.
public struct AgencyID: ValidatedName {
    public let rawValue: String
    public static let requiredForm = "an agency id (lowercase letters, digits, '-', starting with a letter)"

    public init?(_ rawValue: String) {
        guard isWellFormed(rawValue, allowingDots: false) else { return nil }
        self.rawValue = rawValue
    }
}

/// A referral type, such as `kinderbetreuung.anfrage`: lowercase words joined by `.` and `-`.
public struct ReferralType: ValidatedName {
    public let rawValue: String
    public static let requiredForm = "a referral type (lowercase words joined by '.', e.g. kinderbetreuung.anfrage)"

    public init?(_ rawValue: String) {
        guard isWellFormed(rawValue, allowingDots: true) else { return nil }
        self.rawValue = rawValue
    }
}

/// Lowercase ASCII letters, digits and `-` (and `.` if allowed, but neither last nor twice in
/// a row), starting with a letter, at most 64 characters.
private func isWellFormed(_ text: String, allowingDots: Bool) -> Bool {
    // Byte by byte: every allowed character is ASCII, so one byte is one character.
    let utf8 = text.utf8
    guard let first = utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), utf8.count <= 64 else { return false }
    var previous = first
    for byte in utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): break
        case UInt8(ascii: "."): guard allowingDots, previous != UInt8(ascii: ".") else { return false }
        default: return false
        }
        previous = byte
    }
    return previous != UInt8(ascii: ".")
}
