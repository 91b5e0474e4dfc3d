import Foundation
import WeicheCore

extension MassArbeitAdapter {
    /// Reads one referral or receipt object, collecting problems by field path.
    struct Reader {
        let position: String
        var problems: [Rejection] = []

        mutating func problem(_ field: String, _ reason: String) {
            problems.append(Rejection(position: position, field: field, reason: reason))
        }

        /// A referral's members. Searched in order rather than hashed: they are short texts,
        /// compared in a word or two, and hashing every member name of every referral, with
        /// the field values kept in a dictionary by name, was a sixth of reading a referral
        /// (Docs/Performance.md).
        static let referralKeys: [String] = [
            "schema", "messageId", "weicheMessageId", "from", "createdAt", "type", "to", "caseNumber", "caseworker",
            "legalBasis", "purpose", "consentRef", "inReplyTo", "notice", "person", "details",
        ]

        /// The members of `caseworker` and `person`, with the positions of the fields they are
        /// read into among the catalogue's subject fields (the first of every type's fields).
        static let caseworkerMembers = members(["id", "name", "phone"], prefix: "caseworker")
        static let personMembers = members(["familyName", "givenName", "birthDate", "nationality", "address", "phone"], prefix: "person")
        static let caseNumberPosition = ReferralCatalogue.subjectFields.firstIndex { $0.name == "caseNumber" }!

        static func members(_ names: [String], prefix: String) -> [(name: String, position: Int)] {
            names.map { name in (name, ReferralCatalogue.subjectFields.firstIndex { $0.name == "\(prefix).\(name)" }!) }
        }

        mutating func referral(_ object: JSONObject, from agency: AgencyID) -> Referral? {
            var unknown: [String] = []
            for (key, _) in object where !Self.referralKeys.contains(where: { $0.isSameName(as: key) }) { unknown.append(key) }
            for key in unknown.sorted() { problem(key, "unknown field") }
            let messageID = string(object, "messageId", required: true)
            if let messageID, UUID(parsing: messageID) == nil { problem("messageId", "must be a UUID") }
            let createdAt = timestamp(object, "createdAt")
            var type: ReferralType?
            if let text = string(object, "type", required: true) {
                type = ReferralType(text)
                if type == nil || ReferralCatalogue.spec(for: type!) == nil { problem("type", "unknown referral type"); type = nil }
            }
            let recipients = agencies(object["to"])
            let legalBasis = string(object, "legalBasis", required: true)
            let purpose = string(object, "purpose", required: true)
            let consent = string(object, "consentRef", required: false)
            let inReplyTo = string(object, "inReplyTo", required: false)
            let notice = string(object, "notice", required: false)
            let weicheID = string(object, "weicheMessageId", required: false).flatMap(UUID.init(parsing:))
            // The values by their field's position in the type's fields: the subject's first,
            // the same for every type, then the details once the type is known.
            var values = [FieldValue?](repeating: nil, count: ReferralCatalogue.subjectFields.count)
            if let caseNumber = string(object, "caseNumber", required: false) { values[Self.caseNumberPosition] = .text(caseNumber) }
            nested(object["caseworker"], prefix: "caseworker", members: Self.caseworkerMembers, into: &values)
            if object["person"] == nil { problem("person", "is missing") }
            nested(object["person"], prefix: "person", members: Self.personMembers, into: &values)
            guard let messageID, let createdAt, let type, let recipients, let legalBasis, let purpose,
                let spec = ReferralCatalogue.spec(for: type)
            else { return nil }
            values.append(contentsOf: repeatElement(nil, count: spec.fields.count - values.count))
            details(object["details"], spec: spec, into: &values)
            // Fields in catalogue order, each with its catalogue category.
            var fields: [ReferralField] = []
            fields.reserveCapacity(spec.fields.count)
            for (position, known) in spec.fields.enumerated() {
                guard let raw = values[position] else { continue }
                fields.append(ReferralField(known.name, known.category, convert(raw, to: known.kind)))
            }
            return Referral(
                id: weicheID, senderMessageID: messageID, type: type, sender: agency, recipients: recipients, createdAt: createdAt,
                legalBasis: legalBasis, purpose: purpose, consentReference: consent, inReplyTo: inReplyTo, notice: notice, fields: fields)
        }

        mutating func receipt(_ object: JSONObject, from agency: AgencyID) -> Receipt? {
            let allowed: Set<String> = ["schema", "reference", "referralMessageId", "messageId", "from", "outcome", "code", "reason", "issuedAt"]
            for key in object.keys.sorted() where !allowed.contains(key) { problem(key, "unknown field") }
            let reference = string(object, "reference", required: true)
            let issuedAt = timestamp(object, "issuedAt")
            let messageID = string(object, "messageId", required: false)
            var outcome: Receipt.Outcome?
            switch string(object, "outcome", required: true) {
            case "accepted": outcome = .accepted
            case "rejected":
                if let code = string(object, "code", required: true), let reason = string(object, "reason", required: true) {
                    outcome = .rejected(code: code, reason: reason)
                }
            case .some: problem("outcome", "must be 'accepted' or 'rejected'")
            case nil: break
            }
            guard let reference, let issuedAt, let outcome else { return nil }
            return Receipt(
                reference: reference, from: agency, senderMessageID: messageID, outcome: outcome, issuedAt: issuedAt,
                referralSenderMessageID: string(object, "referralMessageId", required: false))
        }

        // MARK: - Values

        mutating func string(_ object: JSONObject, _ key: String, required: Bool) -> String? {
            switch object[key] {
            case .string(let text)? where !text.isBlank: return text
            case .string?: problem(key, "must not be empty")
            case nil, .null?: if required { problem(key, "is missing") }
            case let other?: problem(key, "must be a string, not \(other.typeName)")
            }
            return nil
        }

        mutating func timestamp(_ object: JSONObject, _ key: String) -> Date? {
            guard let text = string(object, key, required: true) else { return nil }
            guard let date = ISO8601Time.parse(text) else {
                problem(key, "must be an ISO 8601 time with an offset, e.g. 2026-01-05T09:00:00+01:00")
                return nil
            }
            return date
        }

        mutating func agencies(_ value: JSONValue?) -> [AgencyID]? {
            let texts: [JSONValue]
            switch value {
            case .string?: texts = [value!]
            case .array(let elements)? where !elements.isEmpty: texts = elements
            case nil: problem("to", "is missing"); return nil
            default: problem("to", "must be an agency id or a non-empty list of them"); return nil
            }
            var result: [AgencyID] = []
            for text in texts {
                guard case .string(let raw) = text, let id = AgencyID(raw) else {
                    problem("to", "must hold agency ids (lowercase letters, digits, '-')")
                    return nil
                }
                result.append(id)
            }
            return result
        }

        /// Copies an object's scalar members into `values`, at the positions `members` gives them.
        mutating func nested(_ value: JSONValue?, prefix: String, members: [(name: String, position: Int)], into values: inout [FieldValue?]) {
            guard let value else { return }
            guard case .object(let object) = value else {
                problem(prefix, "must be an object, not \(value.typeName)")
                return
            }
            var found: [(field: String, reason: String)] = []
            for (key, member) in object {
                guard let position = members.first(where: { $0.name.isSameName(as: key) })?.position else {
                    found.append(("\(prefix).\(key)", "unknown field"))
                    continue
                }
                switch member {
                case .string(let text): values[position] = .text(text)
                case .null: break
                default: found.append((ReferralCatalogue.subjectFields[position].name, "must be a string, not \(member.typeName)"))
                }
            }
            report(found)
        }

        /// Problems of one object's members, in the order of their names (members are read unordered).
        mutating func report(_ found: [(field: String, reason: String)]) {
            for (field, reason) in found.sorted(by: { $0.field < $1.field }) { problem(field, reason) }
        }

        /// Reads `details` by the type's catalogue entries.
        mutating func details(_ value: JSONValue?, spec: ReferralCatalogue.TypeSpec, into values: inout [FieldValue?]) {
            guard let value else { return }
            guard case .object(let object) = value else {
                problem("details", "must be an object, not \(value.typeName)")
                return
            }
            var found: [(field: String, reason: String)] = []
            defer { report(found) }
            members: for (key, member) in object {
                guard let position = spec.positionsByMember[key] else {
                    found.append(("details.\(key)", "not a field of \(spec.type)"))
                    continue
                }
                let field = spec.fields[position]
                let name = field.name
                switch (field.kind, member) {
                case (.text, .string(let text)), (.choice, .string(let text)), (.day, .string(let text)): values[position] = .text(text)
                case (.integer, .number(let number)) where number == number.rounded() && abs(number) < 1e15:
                    values[position] = .integer(Int(number))
                case (.boolean, .bool(let flag)): values[position] = .boolean(flag)
                case (.integerList, .array(let elements)):
                    var numbers: [FieldValue] = []
                    for element in elements {
                        guard case .number(let number) = element, number == number.rounded(), abs(number) < 1e15 else {
                            found.append((name, "must be a list of whole numbers"))
                            continue members
                        }
                        numbers.append(.integer(Int(number)))
                    }
                    values[position] = .list(numbers)
                case (_, .null): break
                default: found.append((name, "must be \(Self.describe(field.kind)), not \(member.typeName)"))
                }
            }
        }

        /// Read values are text until the catalogue says a text is a day.
        func convert(_ value: FieldValue, to kind: ReferralCatalogue.Field.Kind) -> FieldValue {
            if case .day = kind, case .text(let text) = value { return .day(text) }
            return value
        }

        static func describe(_ kind: ReferralCatalogue.Field.Kind) -> String {
            switch kind {
            case .text: "a string"
            case .integer: "a whole number"
            case .boolean: "true or false"
            case .day: "a date string (yyyy-MM-dd)"
            case .integerList: "a list of whole numbers"
            case .choice(let values): "one of \(values.joined(separator: ", "))"
            }
        }
    }
}
