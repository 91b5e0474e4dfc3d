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
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
