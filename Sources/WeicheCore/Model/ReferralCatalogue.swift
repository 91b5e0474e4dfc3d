/// The canonical fields of every referral type: names, kinds, data categories, and which are
/// required. The contract between adapters: what MaßArbeit's JSON calls
/// `details.childrenAges` is the same field the Jugendamt's CSV writes as a column, so every
/// adapter maps its format to and from these names (see `Docs/formats/catalogue.md`).
public enum ReferralCatalogue {
    /// One canonical field.
    public struct Field: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case text
            case integer
            case boolean
            /// `yyyy-MM-dd`.
            case day
            case integerList
            /// Text from a fixed set of values.
            case choice([String])
        }

        public var name: String
        public var category: DataCategory
        public var kind: Kind
        public var required: Bool

        public init(_ name: String, _ category: DataCategory, _ kind: Kind, required: Bool = false) {
            self.name = name
            self.category = category
            self.kind = kind
            self.required = required
        }

        /// Why `value` does not fit this field, or `nil` if it does. Never quotes the value.
        public func problem(with value: FieldValue) -> String? {
            switch (kind, value) {
            case (.text, .text(let text)): return text.isEmpty && required ? "must not be empty" : nil
            case (.integer, .integer), (.boolean, .boolean): return nil
            case (.day, .day(let day)): return ReferralCatalogue.isDay(day) ? nil : "not a date (yyyy-MM-dd)"
            case (.integerList, .list(let values)):
                return values.allSatisfy { if case .integer = $0 { true } else { false } } ? nil : "must be a list of whole numbers"
            case (.choice(let allowed), .text(let text)):
                return allowed.contains(text) ? nil : "must be one of: \(allowed.joined(separator: ", "))"
            default: return "has the wrong kind of value (expected \(kind.words))"
            }
        }
    }

    /// The fields of one referral type: the subject's and the type's details.
    public struct TypeSpec: Sendable {
        public var type: ReferralType
        /// The type this one answers, if it is an answer.
        public var answers: ReferralType?
        public let details: [Field]
        /// Every field a referral of this type may carry: the subject's, then the details.
        /// Stored, not computed: it is read for every field of every referral.
        public let fields: [Field]
        /// The positions in ``fields`` of the details, by the name of their member in a
        /// `details` object: `reason` for `details.reason`. Readers look up every member they
        /// read, and collect values by position; the field is `fields[position]`.
        public let positionsByMember: [String: Int]

        public init(type: ReferralType, answers: ReferralType?, details: [Field]) {
            self.type = type
            self.answers = answers
            self.details = details
            self.fields = ReferralCatalogue.subjectFields + details
            var positionsByMember: [String: Int] = [:]
            for (position, field) in fields.enumerated() where field.name.hasPrefix("details.") {
                positionsByMember[String(field.name.dropFirst("details.".count))] = position
            }
            self.positionsByMember = positionsByMember
        }
    }

    /// Who the referral is about, and the sender's case: the same for every type.
    public static let subjectFields: [Field] = [
        Field("person.familyName", .identity, .text, required: true),
        Field("person.givenName", .identity, .text, required: true),
        Field("person.birthDate", .identity, .day, required: true),
        Field("person.nationality", .identity, .text),
        Field("person.address", .contact, .text),
        Field("person.phone", .contact, .text),
        Field("caseNumber", .case, .text),
        Field("caseworker.id", .case, .text),
        Field("caseworker.name", .case, .text),
        Field("caseworker.phone", .case, .text),
    ]

    /// Every referral type DOMAIN.md defines.
    public static let types: [TypeSpec] = [
        TypeSpec(type: ReferralType("kinderbetreuung.anfrage")!, answers: nil, details: [
            Field("details.childrenAges", .family, .integerList, required: true),
            Field("details.hoursPerWeek", .family, .integer, required: true),
            Field("details.startDate", .family, .day, required: true),
            Field("details.notes", .family, .text),
        ]),
        TypeSpec(type: ReferralType("kinderbetreuung.ergebnis")!, answers: ReferralType("kinderbetreuung.anfrage")!, details: [
            Field("details.result", .family, .choice(["offered", "none", "in-review"]), required: true),
            Field("details.facility", .family, .text),
            Field("details.startDate", .family, .day),
            Field("details.hoursPerWeek", .family, .integer),
        ]),
        TypeSpec(type: ReferralType("aufenthalt.auskunft-anfrage")!, answers: nil, details: [
            Field("details.question", .case, .text),
        ]),
        TypeSpec(type: ReferralType("aufenthalt.auskunft")!, answers: ReferralType("aufenthalt.auskunft-anfrage")!, details: [
            Field("details.residenceTitle", .residence, .text, required: true),
            Field("details.validUntil", .residence, .day),
            Field("details.workPermitted", .residence, .choice(["yes", "no", "with-conditions"]), required: true),
            Field("details.conditions", .residence, .text),
        ]),
        TypeSpec(type: ReferralType("integrationskurs.verpflichtung")!, answers: nil, details: [
            Field("details.obligedSince", .residence, .day, required: true),
            Field("details.courseType", .residence, .text),
            Field("details.reason", .residence, .text),
        ]),
        TypeSpec(type: ReferralType("gesundheit.begutachtung-auftrag")!, answers: nil, details: [
            Field("details.reason", .health, .text, required: true),
            Field("details.question", .health, .text),
        ]),
        TypeSpec(type: ReferralType("gesundheit.begutachtung-ergebnis")!, answers: ReferralType("gesundheit.begutachtung-auftrag")!, details: [
            Field("details.hoursPerDay", .capacity, .choice(["6-or-more", "3-to-6", "under-3"]), required: true),
            Field("details.restrictions", .capacity, .text),
            Field("details.expectedDuration", .capacity, .text),
            Field("details.diagnoses", .health, .text),
            Field("details.findings", .health, .text),
        ]),
        TypeSpec(type: ReferralType("beratung.zuweisung")!, answers: nil, details: [
            Field("details.reason", .health, .text, required: true),
            Field("details.urgency", .case, .choice(["normal", "urgent"])),
        ]),
        TypeSpec(type: ReferralType("uebergang.jugendberufshilfe")!, answers: nil, details: [
            Field("details.school", .education, .text),
            Field("details.schoolLeavingDate", .education, .day),
            Field("details.qualification", .education, .text),
            Field("details.youthWelfareMeasure", .youthWelfare, .text),
            Field("details.notes", .youthWelfare, .text),
        ]),
    ]

    /// The specification of `type`, if it is a known referral type.
    public static func spec(for type: ReferralType) -> TypeSpec? {
        types.first { $0.type == type }
    }

    /// Checks a referral's fields against its type: known type, every field known and of the
    /// right kind and category, required fields present. Rejections name fields, never values.
    public static func problems(in referral: Referral) -> [Rejection] {
        guard let spec = spec(for: referral.type) else {
            return [Rejection(field: "type", reason: "unknown referral type '\(referral.type)'")]
        }
        return problemsInCatalogueOrder(referral, spec) ?? problemsByName(referral, spec)
    }

    /// The general check: any order, any names.
    static func problemsByName(_ referral: Referral, _ spec: TypeSpec) -> [Rejection] {
        var problems: [Rejection] = []
        var seen: Set<String> = []
        for field in referral.fields {
            guard seen.insert(field.name).inserted else {
                problems.append(Rejection(field: field.name, reason: "appears twice"))
                continue
            }
            guard let known = spec.fields.first(where: { $0.name == field.name }) else {
                problems.append(Rejection(field: field.name, reason: "not a field of \(referral.type)"))
                continue
            }
            problems += Self.problems(of: field, as: known)
        }
        for required in spec.fields where required.required && !seen.contains(required.name) {
            problems.append(Rejection(field: required.name, reason: "is required for \(referral.type)"))
        }
        return problems
    }

    /// The same answer as the general check for the usual referral, whose fields are all known
    /// and in catalogue order (as the adapters build them), so that none can appear twice;
    /// nil for any other referral. It walks the catalogue once instead of hashing every name.
    static func problemsInCatalogueOrder(_ referral: Referral, _ spec: TypeSpec) -> [Rejection]? {
        var problems: [Rejection] = []
        var present = [Bool](repeating: false, count: spec.fields.count)
        var next = 0
        for field in referral.fields {
            guard let index = spec.fields[next...].firstIndex(where: { $0.name == field.name }) else { return nil }
            next = index + 1
            present[index] = true
            problems += Self.problems(of: field, as: spec.fields[index])
        }
        for (index, required) in spec.fields.enumerated() where required.required && !present[index] {
            problems.append(Rejection(field: required.name, reason: "is required for \(referral.type)"))
        }
        return problems
    }

    /// A known field's category and value against the catalogue's.
    private static func problems(of field: ReferralField, as known: Field) -> [Rejection] {
        var problems: [Rejection] = []
        if known.category != field.category {
            problems.append(Rejection(field: field.name, reason: "belongs to category \(known.category.rawValue), not \(field.category.rawValue)"))
        }
        if let problem = known.problem(with: field.value) {
            problems.append(Rejection(field: field.name, reason: problem))
        }
        return problems
    }

    /// Whether `text` is a valid calendar day `yyyy-MM-dd` (Gregorian, years 1000–9999).
    public static func isDay(_ text: String) -> Bool {
        guard text.utf8.count == 10 else { return false }
        var year = 0, month = 0, day = 0
        for (index, byte) in text.utf8.enumerated() {
            if index == 4 || index == 7 {
                guard byte == UInt8(ascii: "-") else { return false }
                continue
            }
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return false }
            switch index {
            case 0..<4: year = year * 10 + Int(digit)
            case 5..<7: month = month * 10 + Int(digit)
            default: day = day * 10 + Int(digit)
            }
        }
        guard (1000...9999).contains(year), (1...12).contains(month) else { return false }
        return (1...ISO8601Time.daysIn(month, of: year)).contains(day)
    }
}

extension ReferralCatalogue.Field.Kind {
    var words: String {
        switch self {
        case .text: "text"
        case .integer: "a whole number"
        case .boolean: "true or false"
        case .day: "a date"
        case .integerList: "a list of whole numbers"
        case .choice: "one of a fixed set of words"
        }
    }
}
