/// A category of personal data. Routes list the categories a recipient may receive; every
/// field of a referral belongs to exactly one (see `Docs/Architecture.md` and DOMAIN.md).
public enum DataCategory: String, CaseIterable, Codable, Sendable, Comparable {
    /// Name, birth date, nationality.
    case identity
    /// Address, phone.
    case contact
    /// Case numbers, caseworker.
    case `case`
    /// Household, children.
    case family
    /// Residence title, work permission.
    case residence
    case employment
    case education
    /// Diagnoses and findings: a special category (GDPR Art. 9); needs a consent reference.
    case health
    /// The capacity-to-work conclusion, without diagnoses.
    case capacity
    /// Data entrusted to the Jugendamt (§ 65 SGB VIII); needs a consent reference.
    case youthWelfare = "youth-welfare"

    /// Categories that a route may only carry with a consent reference on the referral.
    public var needsConsent: Bool { self == .health || self == .youthWelfare }

    public static func < (lhs: DataCategory, rhs: DataCategory) -> Bool {
        lhs.ordinal < rhs.ordinal
    }

    /// The category's place in declaration order.
    var ordinal: Int {
        switch self {
        case .identity: 0
        case .contact: 1
        case .case: 2
        case .family: 3
        case .residence: 4
        case .employment: 5
        case .education: 6
        case .health: 7
        case .capacity: 8
        case .youthWelfare: 9
        }
    }

    /// Hashed by its place, not by its name as a `String`-backed enum would be: sets of
    /// categories are asked about every field of every referral.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ordinal)
    }
}

/// A set of data categories as bits, for checking many fields against one set.
struct DataCategoryMask {
    private var bits: UInt16 = 0

    init(_ categories: Set<DataCategory>) {
        for category in categories { bits |= 1 << category.ordinal }
    }

    func contains(_ category: DataCategory) -> Bool {
        bits & (1 << category.ordinal) != 0
    }
}
