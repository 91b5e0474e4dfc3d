import Foundation
import WeicheCore

/// MaßArbeit's case-management JSON (`massarbeit.referral/1`, `massarbeit.receipt/1`): one
/// referral or receipt per file, or an array of them. See `Docs/formats/massarbeit.md`.
///
/// Field names follow the referral catalogue: `person.*`, `caseNumber`, `caseworker.*` and
/// `details.*` map one to one onto the canonical fields of the same name.
public struct MassArbeitAdapter: AgencyAdapter {
    public static let name = "massarbeit-json"
    static let referralSchema = "massarbeit.referral/1"
    static let receiptSchema = "massarbeit.receipt/1"
    /// The largest file read; larger ones are rejected unread.
    public static let maximumSize = 10 << 20

    public var supportedTypes: Set<ReferralType> { Set(ReferralCatalogue.types.map(\.type)) }

    public init() {}

    public func decode(_ item: InboundItem, from agency: AgencyID) -> [DecodedItem] {
        guard item.bytes.count <= Self.maximumSize else {
            return [.rejected(Rejection(reason: "the file has \(item.bytes.count) bytes; at most \(Self.maximumSize) are accepted"))]
        }
        let document: JSONValue
        do {
            document = try JSONValue(parsing: item.bytes)
        } catch {
            // The parser's reason names the syntax and the byte offset, never the text there.
            return [.rejected(Rejection(reason: "not valid UTF-8 JSON: \(error)"))]
        }
        switch document {
        case .object:
            return [decodeOne(document, position: "", from: agency)]
        case .array(let elements):
            if elements.isEmpty { return [.rejected(Rejection(reason: "the array holds no referral"))] }
            return elements.enumerated().map { decodeOne($1, position: "[\($0)]", from: agency) }
        default:
            return [.rejected(Rejection(reason: "expected a referral object or an array of them, found \(document.typeName)"))]
        }
    }

    private func decodeOne(_ value: JSONValue, position: String, from agency: AgencyID) -> DecodedItem {
        var reader = Reader(position: position)
        guard case .object(let object) = value else {
            return .rejected(Rejection(position: position, reason: "expected an object, found \(value.typeName)"))
        }
        switch object["schema"] {
        case .string(Self.referralSchema):
            if let referral = reader.referral(object, from: agency), reader.problems.isEmpty {
                let catalogue = ReferralCatalogue.problems(in: referral)
                guard let first = catalogue.first else { return .referral(referral) }
                return .rejected(Self.summarise(Rejection(position: position, field: first.field, reason: first.reason), more: catalogue.count - 1))
            }
        case .string(Self.receiptSchema):
            if let receipt = reader.receipt(object, from: agency), reader.problems.isEmpty { return .receipt(receipt) }
        case .string:
            reader.problem("schema", "unknown schema (expected \(Self.referralSchema) or \(Self.receiptSchema))")
        case nil:
            reader.problem("schema", "is missing")
        case let other?:
            reader.problem("schema", "must be a string, not \(other.typeName)")
        }
        let first = reader.problems.first ?? Rejection(position: position, reason: "unreadable")
        return .rejected(Self.summarise(first, more: reader.problems.count - 1))
    }

    /// The first problem, saying how many more there are.
    private static func summarise(_ first: Rejection, more: Int) -> Rejection {
        guard more > 0 else { return first }
        var rejection = first
        rejection.reason += " (and \(more) more problem\(more == 1 ? "" : "s"))"
        return rejection
    }

    // MARK: - Encoding

    public func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument {
        guard let id = referral.id else { throw Rejection(reason: "the referral has no Weiche message id") }
        var object: [String: Any] = [
            "schema": Self.referralSchema,
            "messageId": referral.senderMessageID,
            "weicheMessageId": id.lowercasedString,
            "from": referral.sender.rawValue,
            "createdAt": Self.timestamp(referral.createdAt),
            "type": referral.type.rawValue,
            "to": referral.recipients.count == 1 ? referral.recipients[0].rawValue as Any : referral.recipients.map(\.rawValue),
            "legalBasis": referral.legalBasis,
            "purpose": referral.purpose,
        ]
        if let consent = referral.consentReference { object["consentRef"] = consent }
        if let reply = referral.inReplyTo { object["inReplyTo"] = reply }
        if let notice = referral.notice { object["notice"] = notice }
        for field in referral.fields {
            let path = field.name.split(separator: ".").map(String.init)
            Self.insert(Self.json(field.value), at: path[...], into: &object)
        }
        return OutboundDocument(bytes: try Self.serialize(object), fileName: "\(id.lowercasedString).json", contentType: "application/json")
    }

    public func encode(_ receipt: Receipt) throws(Rejection) -> OutboundDocument {
        var object: [String: Any] = [
            "schema": Self.receiptSchema, "reference": receipt.reference, "from": receipt.from.rawValue,
            "issuedAt": Self.timestamp(receipt.issuedAt),
        ]
        if let id = receipt.senderMessageID { object["messageId"] = id }
        if let referral = receipt.referralSenderMessageID { object["referralMessageId"] = referral }
        for (key, value) in receipt.outcome.entries { object[key] = value }
        return OutboundDocument(bytes: try Self.serialize(object), fileName: "receipt-\(receipt.reference).json", contentType: "application/json")
    }

    private static func serialize(_ object: [String: Any]) throws(Rejection) -> [UInt8] {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) else {
            throw Rejection(reason: "the document could not be written as JSON")
        }
        return [UInt8](data)
    }

    private static func json(_ value: FieldValue) -> Any {
        switch value {
        case .text(let text), .day(let text): text
        case .integer(let number): number
        case .boolean(let flag): flag
        case .list(let values): values.map(json)
        }
    }

    private static func insert(_ value: Any, at path: ArraySlice<String>, into object: inout [String: Any]) {
        guard let key = path.first else { return }
        if path.count == 1 {
            object[key] = value
        } else {
            var child = object[key] as? [String: Any] ?? [:]
            insert(value, at: path.dropFirst(), into: &child)
            object[key] = child
        }
    }

    /// ISO 8601 in UTC with milliseconds, e.g. `2026-01-05T08:00:00.000Z`.
    static func timestamp(_ date: Date) -> String {
        ISO8601Time.format(date)
    }
}
