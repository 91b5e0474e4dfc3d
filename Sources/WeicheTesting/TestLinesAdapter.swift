import Foundation
import WeicheCore

/// A second adapter for tests, with a format unlike JSON documents: one referral per item, one
/// `key value` line per envelope entry or field, each value in JSON. Lets tests prove the
/// gateway translates between two different formats.
///
/// ```
/// weiche-lines/1
/// type "kinderbetreuung.anfrage"
/// field {"category":"identity","name":"person.familyName","value":{"text":"Muster"}}
/// ```
public struct TestLinesAdapter: AgencyAdapter {
    public static let name = "test-lines"
    public let supportedTypes: Set<ReferralType>

    public init(supportedTypes: Set<ReferralType> = []) {
        self.supportedTypes = supportedTypes
    }

    private static let header = "weiche-lines/1"
    private static let keys = ["id", "senderMessageID", "type", "recipients", "createdAt", "legalBasis", "purpose", "consentReference", "inReplyTo", "notice"]

    public func decode(_ item: InboundItem, from agency: AgencyID) -> [DecodedItem] {
        guard let text = String(validating: item.bytes, as: UTF8.self) else {
            return [.rejected(Rejection(reason: "not UTF-8 text"))]
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.first == Substring(Self.header) else {
            return [.rejected(Rejection(position: "line 1", reason: "expected the header '\(Self.header)'"))]
        }
        var envelope: [String: Data] = [:]
        var fields: [ReferralField] = []
        let decoder = JSONDecoder()
        for (offset, line) in lines.enumerated().dropFirst() {
            let position = "line \(offset + 1)"
            guard let space = line.firstIndex(of: " ") else {
                return [.rejected(Rejection(position: position, reason: "expected 'key value'"))]
            }
            let key = String(line[..<space])
            let value = Data(line[line.index(after: space)...].utf8)
            if key == "field" {
                guard let field = try? decoder.decode(ReferralField.self, from: value) else {
                    return [.rejected(Rejection(position: position, field: "field", reason: "not a field (name, category, value)"))]
                }
                fields.append(field)
            } else if Self.keys.contains(key) {
                envelope[key] = value
            } else {
                return [.rejected(Rejection(position: position, field: key, reason: "unknown key"))]
            }
        }
        func value<Value: Decodable>(_ key: String, _ type: Value.Type) -> Value? {
            envelope[key].flatMap { try? decoder.decode(Value.self, from: $0) }
        }
        for key in ["senderMessageID", "type", "recipients", "createdAt", "legalBasis", "purpose"] where envelope[key] == nil {
            return [.rejected(Rejection(field: key, reason: "missing"))]
        }
        guard let senderMessageID = value("senderMessageID", String.self), !senderMessageID.isEmpty else {
            return [.rejected(Rejection(field: "senderMessageID", reason: "not a non-empty string"))]
        }
        guard let type = value("type", ReferralType.self) else {
            return [.rejected(Rejection(field: "type", reason: "not a referral type"))]
        }
        if !supportedTypes.isEmpty && !supportedTypes.contains(type) {
            return [.rejected(Rejection(field: "type", reason: "unknown referral type '\(type)'"))]
        }
        guard let recipients = value("recipients", [AgencyID].self) else {
            return [.rejected(Rejection(field: "recipients", reason: "not a list of agency ids"))]
        }
        guard let created = value("createdAt", Double.self) else {
            return [.rejected(Rejection(field: "createdAt", reason: "not seconds since 1970"))]
        }
        guard let legalBasis = value("legalBasis", String.self), let purpose = value("purpose", String.self) else {
            return [.rejected(Rejection(field: "legalBasis", reason: "legal basis and purpose must be strings"))]
        }
        return [.referral(Referral(
            id: value("id", UUID.self), senderMessageID: senderMessageID, type: type, sender: agency, recipients: recipients,
            createdAt: Date(timeIntervalSince1970: created), legalBasis: legalBasis, purpose: purpose,
            consentReference: value("consentReference", String.self), inReplyTo: value("inReplyTo", String.self),
            notice: value("notice", String.self), fields: fields))]
    }

    public func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument {
        guard let id = referral.id else { throw Rejection(reason: "the referral has no Weiche id") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<Value: Encodable>(_ value: Value) -> String {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        }
        var lines = [Self.header]
        lines.append("id \(json(id))")
        lines.append("senderMessageID \(json(referral.senderMessageID))")
        lines.append("type \(json(referral.type))")
        lines.append("recipients \(json(referral.recipients))")
        lines.append("createdAt \(json(referral.createdAt.timeIntervalSince1970))")
        lines.append("legalBasis \(json(referral.legalBasis))")
        lines.append("purpose \(json(referral.purpose))")
        if let consent = referral.consentReference { lines.append("consentReference \(json(consent))") }
        if let reply = referral.inReplyTo { lines.append("inReplyTo \(json(reply))") }
        if let notice = referral.notice { lines.append("notice \(json(notice))") }
        lines += referral.fields.map { "field \(json($0))" }
        return OutboundDocument(
            bytes: Array((lines.joined(separator: "\n") + "\n").utf8), fileName: "\(id.uuidString.lowercased()).txt",
            contentType: "text/plain; charset=utf-8")
    }

    public func encode(_ receipt: Receipt) throws(Rejection) -> OutboundDocument {
        throw Rejection(reason: "the test-lines format has no receipts")
    }
}
