import Foundation
import WeicheCore
import WeichePostgres

/// The stored form of a ``Referral`` (message rows, delivery contents, the content hash),
/// written and read without `JSONEncoder`/`JSONDecoder`, which took half of the gateway's CPU
/// (Docs/Performance.md).
///
/// The bytes are exactly those of `PostgresJSONCoding.encoder()` for the same referral (sorted
/// keys, absent optionals left out, dates as `PostgresJSONCoding.format`), so content hashes
/// of messages stored before and after agree; a test compares the two on many referrals.
/// Reading accepts what PostgreSQL prints for `jsonb`; anything it does not recognise is read
/// by `JSONDecoder` instead, so nothing readable before becomes unreadable.
public enum ReferralJSON {
    /// The referral as stored; `includingID: false` gives the canonical form the content hash covers.
    public static func encode(_ referral: Referral, includingID: Bool = true) -> [UInt8] {
        var output = JSONOutput(capacity: 2048)
        write(referral, includingID: includingID, into: &output)
        return output.bytes
    }

    /// The stored form with `id` (whatever id the referral has is ignored) and the canonical
    /// form without one (for the content hash), written once: the id is spliced into the
    /// canonical bytes.
    public static func encodeStoredAndCanonical(_ referral: Referral, id: UUID) -> (stored: [UInt8], canonical: [UInt8]) {
        var canonical = JSONOutput(capacity: 2048)
        writeMembersBeforeID(referral, into: &canonical)
        let split = canonical.bytes.count
        writeMembersAfterID(referral, into: &canonical)
        var stored = JSONOutput(capacity: canonical.bytes.count + 48)
        stored.raw(canonical.bytes[..<split])
        stored.key("id")
        stored.uuid(id)
        stored.byte(",")
        stored.raw(canonical.bytes[split...])
        return (stored.bytes, canonical.bytes)
    }

    /// Writes the referral's object into `output`; members in the order `.sortedKeys` gives.
    public static func write(_ referral: Referral, includingID: Bool = true, into output: inout JSONOutput) {
        writeMembersBeforeID(referral, into: &output)
        if includingID, let id = referral.id {
            output.key("id")
            output.uuid(id)
            output.byte(",")
        }
        writeMembersAfterID(referral, into: &output)
    }

    /// `{`, then the members before `id` in key order, each followed by a comma.
    private static func writeMembersBeforeID(_ referral: Referral, into output: inout JSONOutput) {
        output.byte("{")
        if let consent = referral.consentReference {
            output.key("consentReference")
            output.string(consent)
            output.byte(",")
        }
        output.key("createdAt")
        output.string(PostgresJSONCoding.format(referral.createdAt))
        output.raw(",\"fields\":[")
        for (index, field) in referral.fields.enumerated() {
            if index > 0 { output.byte(",") }
            output.raw("{\"category\":")
            output.string(field.category.rawValue)
            output.raw(",\"name\":")
            output.string(field.name)
            output.raw(",\"value\":")
            write(field.value, into: &output)
            output.byte("}")
        }
        output.raw("],")
    }

    /// The members after `id` in key order, then `}`.
    private static func writeMembersAfterID(_ referral: Referral, into output: inout JSONOutput) {
        if let inReplyTo = referral.inReplyTo {
            output.key("inReplyTo")
            output.string(inReplyTo)
            output.byte(",")
        }
        output.key("legalBasis")
        output.string(referral.legalBasis)
        if let notice = referral.notice {
            output.raw(",\"notice\":")
            output.string(notice)
        }
        output.raw(",\"purpose\":")
        output.string(referral.purpose)
        output.raw(",\"recipients\":[")
        for (index, recipient) in referral.recipients.enumerated() {
            if index > 0 { output.byte(",") }
            output.string(recipient.rawValue)
        }
        output.raw("],\"sender\":")
        output.string(referral.sender.rawValue)
        output.raw(",\"senderMessageID\":")
        output.string(referral.senderMessageID)
        output.raw(",\"type\":")
        output.string(referral.type.rawValue)
        output.byte("}")
    }

    private static func write(_ value: FieldValue, into output: inout JSONOutput) {
        switch value {
        case .text(let text):
            output.raw("{\"text\":")
            output.string(text)
        case .integer(let number):
            output.raw("{\"integer\":")
            output.integer(number)
        case .boolean(let flag):
            output.raw("{\"boolean\":")
            output.boolean(flag)
        case .day(let day):
            output.raw("{\"day\":")
            output.string(day)
        case .list(let values):
            output.raw("{\"list\":[")
            for (index, element) in values.enumerated() {
                if index > 0 { output.byte(",") }
                write(element, into: &output)
            }
            output.byte("]")
        }
        output.byte("}")
    }

    /// The referral as reading its stored form back gives it, without writing and reading:
    /// the same values, `createdAt` to the microsecond as stored. What the pipeline hands on
    /// from memory (deliveries claimed at ingest) is therefore what a worker's claim would
    /// read from the database; a test compares the two for every adapter's referrals.
    public static func asStored(_ referral: Referral) -> Referral {
        var stored = referral
        stored.createdAt = PostgresJSONCoding.stored(referral.createdAt)
        return stored
    }

    /// Reads a stored referral (JSON text, e.g. a `jsonb` column).
    public static func decode(_ bytes: [UInt8]) throws -> Referral {
        if let document = try? JSONValue(parsing: bytes), let referral = referral(document) { return referral }
        return try PostgresJSONCoding.decoder().decode(Referral.self, from: Data(bytes))
    }

    /// The referral in a parsed document, or nil if it is not exactly one (the caller then
    /// asks `JSONDecoder`, whose error says what is wrong).
    static func referral(_ document: JSONValue) -> Referral? {
        guard case .object(let members) = document,
            case .string(let senderMessageID)? = members["senderMessageID"],
            case .string(let typeText)? = members["type"], let type = ReferralType(typeText),
            case .string(let senderText)? = members["sender"], let sender = AgencyID(senderText),
            case .array(let recipientValues)? = members["recipients"],
            case .string(let createdText)? = members["createdAt"], let createdAt = PostgresJSONCoding.parse(createdText),
            case .string(let legalBasis)? = members["legalBasis"],
            case .string(let purpose)? = members["purpose"],
            case .array(let fieldValues)? = members["fields"]
        else { return nil }
        var recipients: [AgencyID] = []
        for value in recipientValues {
            guard case .string(let text) = value, let recipient = AgencyID(text) else { return nil }
            recipients.append(recipient)
        }
        var fields: [ReferralField] = []
        fields.reserveCapacity(fieldValues.count)
        for value in fieldValues {
            guard case .object(let field) = value, field.count == 3,
                case .string(let name)? = field["name"],
                case .string(let categoryText)? = field["category"], let category = DataCategory(rawValue: categoryText),
                let fieldValue = field["value"].flatMap(self.fieldValue)
            else { return nil }
            fields.append(ReferralField(name, category, fieldValue))
        }
        func optionalString(_ key: String) -> String?? {
            switch members[key] {
            case nil, .null?: return .some(nil)
            case .string(let text)?: return .some(text)
            default: return nil
            }
        }
        var id: UUID?
        switch members["id"] {
        case nil, .null?: id = nil
        case .string(let text)?:
            guard let parsed = UUID(parsing: text) else { return nil }
            id = parsed
        default: return nil
        }
        guard let consentReference = optionalString("consentReference"), let inReplyTo = optionalString("inReplyTo"),
            let notice = optionalString("notice")
        else { return nil }
        let known: Set<String> = [
            "id", "senderMessageID", "type", "sender", "recipients", "createdAt", "legalBasis", "purpose", "consentReference",
            "inReplyTo", "notice", "fields",
        ]
        guard members.keys.allSatisfy(known.contains) else { return nil }
        return Referral(
            id: id, senderMessageID: senderMessageID, type: type, sender: sender, recipients: recipients, createdAt: createdAt,
            legalBasis: legalBasis, purpose: purpose, consentReference: consentReference, inReplyTo: inReplyTo, notice: notice,
            fields: fields)
    }

    private static func fieldValue(_ value: JSONValue) -> FieldValue? {
        guard case .object(let members) = value, members.count == 1, let (kind, content) = members.first else { return nil }
        switch (kind, content) {
        case ("text", .string(let text)): return .text(text)
        case ("day", .string(let day)): return .day(day)
        case ("boolean", .bool(let flag)): return .boolean(flag)
        case ("integer", .number(let number)):
            // Exact only within ±2^53; larger integers are left to JSONDecoder.
            guard number.magnitude < 9_007_199_254_740_992, let integer = Int(exactly: number) else { return nil }
            return .integer(integer)
        case ("list", .array(let elements)):
            var values: [FieldValue] = []
            for element in elements {
                guard let decoded = fieldValue(element) else { return nil }
                values.append(decoded)
            }
            return .list(values)
        default: return nil
        }
    }
}

extension Referral {
    /// The first field (or header) whose text holds U+0000, which PostgreSQL cannot store in
    /// `text` or `jsonb`; nil if there is none.
    var fieldHoldingNUL: String? {
        func holds(_ text: String) -> Bool {
            text.utf8.withContiguousStorageIfAvailable { $0.count > 0 && memchr($0.baseAddress!, 0, $0.count) != nil }
                ?? text.utf8.contains(0)
        }
        func holds(_ value: FieldValue) -> Bool {
            switch value {
            case .text(let text), .day(let text): holds(text)
            case .integer, .boolean: false
            case .list(let values): values.contains(where: holds)
            }
        }
        let headers: [(String, String?)] = [
            ("senderMessageID", senderMessageID), ("legalBasis", legalBasis), ("purpose", purpose),
            ("consentReference", consentReference), ("inReplyTo", inReplyTo), ("notice", notice),
        ]
        if let header = headers.first(where: { $0.1.map(holds) ?? false }) { return header.0 }
        return fields.first { holds($0.name) || holds($0.value) }?.name
    }
}
