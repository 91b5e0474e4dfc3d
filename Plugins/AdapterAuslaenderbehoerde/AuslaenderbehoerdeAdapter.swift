import Foundation
import WeicheCore

/// The Ausländerbehörde's XML, modelled on XÖV (XAusländer): a `nachricht` with a
/// `nachrichtenkopf` envelope, the legal basis, the person and the `inhalt`; receipts as
/// `quittung` and `rueckweisung`. DTDs and entities are refused. See
/// `Docs/formats/auslaenderbehoerde.md`.
public struct AuslaenderbehoerdeAdapter: AgencyAdapter {
    public static let name = "abh-xml"
    public static let namespace = "urn:weiche:auslaenderbehoerde:1"
    public static let maximumSize = 5 << 20

    public init() {}

    /// XML element ↔ canonical field, per part of the message.
    struct Mapping {
        var element: String
        var field: String
    }

    static let personElements = [
        Mapping(element: "familienname", field: "person.familyName"), Mapping(element: "vorname", field: "person.givenName"),
        Mapping(element: "geburtsdatum", field: "person.birthDate"), Mapping(element: "staatsangehoerigkeit", field: "person.nationality"),
        Mapping(element: "anschrift", field: "person.address"),
    ]
    static let caseElements = [
        Mapping(element: "aktenzeichen", field: "caseNumber"), Mapping(element: "sachbearbeitung", field: "caseworker.name"),
    ]
    static let contentElements: [String: [Mapping]] = [
        "aufenthalt.auskunft-anfrage": [Mapping(element: "frage", field: "details.question")],
        "aufenthalt.auskunft": [
            Mapping(element: "aufenthaltstitel", field: "details.residenceTitle"), Mapping(element: "gueltigBis", field: "details.validUntil"),
            Mapping(element: "erwerbstaetigkeit", field: "details.workPermitted"), Mapping(element: "auflagen", field: "details.conditions"),
        ],
        "integrationskurs.verpflichtung": [
            Mapping(element: "verpflichtetSeit", field: "details.obligedSince"), Mapping(element: "kursart", field: "details.courseType"),
            Mapping(element: "grund", field: "details.reason"),
        ],
    ]
    /// The XML words for the catalogue's choices.
    static let choiceWords = ["erlaubt": "yes", "nicht-erlaubt": "no", "mit-auflagen": "with-conditions"]

    public var supportedTypes: Set<ReferralType> { Set(Self.contentElements.keys.compactMap { ReferralType($0) }) }

    // MARK: - Decoding

    public func decode(_ item: InboundItem, from agency: AgencyID) -> [DecodedItem] {
        guard item.bytes.count <= Self.maximumSize else {
            return [.rejected(Rejection(reason: "the document has \(item.bytes.count) bytes; at most \(Self.maximumSize) are accepted"))]
        }
        let root: XMLElement
        switch XMLElement.parse(item.bytes) {
        case .success(let parsed): root = parsed
        case .failure(let error): return [.rejected(Rejection(reason: error.reason))]
        }
        guard root.namespace == Self.namespace else {
            return [.rejected(Rejection(field: root.name, reason: "expected the namespace \(Self.namespace)"))]
        }
        switch root.name {
        case "nachricht": return [message(root, from: agency)]
        case "quittung", "rueckweisung": return [receipt(root, from: agency)]
        default: return [.rejected(Rejection(field: root.name, reason: "unknown root element (expected nachricht, quittung or rueckweisung)"))]
        }
    }

    private func message(_ root: XMLElement, from agency: AgencyID) -> DecodedItem {
        func reject(_ field: String, _ reason: String) -> DecodedItem { .rejected(Rejection(field: field, reason: reason)) }
        guard let head = root.child("nachrichtenkopf") else { return reject("nachrichtenkopf", "is missing") }
        guard let id = head.value("nachrichtenUUID") else { return reject("nachrichtenkopf/nachrichtenUUID", "is missing") }
        guard UUID(parsing: id) != nil else { return reject("nachrichtenkopf/nachrichtenUUID", "must be a UUID") }
        guard let typeText = head.value("nachrichtentyp") else { return reject("nachrichtenkopf/nachrichtentyp", "is missing") }
        guard let type = ReferralType(typeText), let spec = ReferralCatalogue.spec(for: type), let content = Self.contentElements[typeText] else {
            return reject("nachrichtenkopf/nachrichtentyp", "unknown message type")
        }
        guard let stamp = head.value("erstellungszeitpunkt"), let created = Self.parseTime(stamp) else {
            return reject("nachrichtenkopf/erstellungszeitpunkt", "must be an ISO 8601 time with milliseconds and offset")
        }
        guard let readerID = head.child("leser")?.value("kennung"), let recipient = AgencyID(readerID) else {
            return reject("nachrichtenkopf/leser/kennung", "must be an agency id")
        }
        guard let legalBasis = root.value("rechtsgrundlage") else { return reject("rechtsgrundlage", "is missing") }
        guard let person = root.child("person") else { return reject("person", "is missing") }
        var raw: [String: (String, String)] = [:]
        for mapping in Self.personElements { if let text = person.value(mapping.element) { raw[mapping.field] = ("person/\(mapping.element)", text) } }
        for mapping in Self.caseElements { if let text = root.value(mapping.element) { raw[mapping.field] = (mapping.element, text) } }
        if let inhalt = root.child("inhalt") {
            for child in inhalt.children {
                guard let mapping = content.first(where: { $0.element == child.name }) else {
                    return reject("inhalt/\(child.name)", "not an element of \(type)")
                }
                raw[mapping.field] = ("inhalt/\(child.name)", child.text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        var fields: [ReferralField] = []
        for field in spec.fields {
            guard let (element, text) = raw[field.name] else { continue }
            switch field.kind {
            case .day: fields.append(ReferralField(field.name, field.category, .day(text)))
            case .choice:
                guard let word = Self.choiceWords[text] else {
                    return reject(element, "must be one of: \(Self.choiceWords.keys.sorted().joined(separator: ", "))")
                }
                fields.append(ReferralField(field.name, field.category, .text(word)))
            default: fields.append(ReferralField(field.name, field.category, .text(text)))
            }
        }
        let referral = Referral(
            id: head.value("weicheUUID").flatMap(UUID.init(parsing:)), senderMessageID: id, type: type, sender: agency,
            recipients: [recipient], createdAt: created, legalBasis: legalBasis, purpose: root.value("zweck") ?? "",
            consentReference: root.value("einwilligung"), inReplyTo: head.value("referenzUUID"), notice: root.value("hinweis"),
            fields: fields)
        if let problem = ReferralCatalogue.problems(in: referral).first {
            let element = (Self.personElements.map { ("person/\($0.element)", $0.field) } + Self.caseElements.map { ($0.element, $0.field) }
                + content.map { ("inhalt/\($0.element)", $0.field) }).first { $0.1 == problem.field }?.0 ?? problem.field ?? ""
            return reject(element, problem.reason)
        }
        return .referral(referral)
    }

    private func receipt(_ root: XMLElement, from agency: AgencyID) -> DecodedItem {
        guard let reference = root.value("referenzUUID") else { return .rejected(Rejection(field: "referenzUUID", reason: "is missing")) }
        guard let stamp = root.value("zeitpunkt"), let time = Self.parseTime(stamp) else {
            return .rejected(Rejection(field: "zeitpunkt", reason: "must be an ISO 8601 time with milliseconds and offset"))
        }
        if root.name == "quittung" {
            return .receipt(Receipt(reference: reference, from: agency, senderMessageID: root.value("nachrichtenUUID"), outcome: .accepted, issuedAt: time,
                                    referralSenderMessageID: root.value("bezugNachrichtenUUID")))
        }
        guard let reason = root.child("grund"), let code = reason.attributes["code"], !code.isEmpty else {
            return .rejected(Rejection(field: "grund", reason: "needs a code attribute and a text"))
        }
        let text = reason.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return .receipt(Receipt(reference: reference, from: agency, senderMessageID: root.value("nachrichtenUUID"),
                                outcome: .rejected(code: code, reason: text), issuedAt: time,
                                referralSenderMessageID: root.value("bezugNachrichtenUUID")))
    }

    // MARK: - Encoding

    public func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument {
        guard let id = referral.id else { throw Rejection(reason: "the referral has no Weiche message id") }
        guard let content = Self.contentElements[referral.type.rawValue], referral.recipients.count == 1 else {
            throw Rejection(field: "type", reason: "the Ausländerbehörde's format has no message for \(referral.type) to \(referral.recipients.count) recipients")
        }
        func text(_ field: String) -> String? {
            switch referral[field: field] {
            case .text(let value)?: Self.choiceWords.first { $0.value == value }?.key ?? value
            case .day(let value)?: value
            case .integer(let number)?: String(number)
            default: nil
            }
        }
        var xml = XMLOutput()
        xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<nachricht xmlns=\"\(Self.namespace)\">")
        xml.raw("<nachrichtenkopf>")
        xml.element("nachrichtenUUID", referral.senderMessageID)
        xml.element("weicheUUID", id.lowercasedString)
        xml.element("nachrichtentyp", referral.type.rawValue)
        xml.element("erstellungszeitpunkt", Self.formatTime(referral.createdAt))
        xml.raw("<autor>")
        xml.element("kennung", referral.sender.rawValue)
        xml.raw("</autor><leser>")
        xml.element("kennung", referral.recipients[0].rawValue)
        xml.raw("</leser>")
        xml.element("referenzUUID", referral.inReplyTo)
        xml.raw("</nachrichtenkopf>")
        xml.element("rechtsgrundlage", referral.legalBasis)
        xml.element("zweck", referral.purpose.isEmpty ? nil : referral.purpose)
        xml.element("einwilligung", referral.consentReference)
        xml.element("hinweis", referral.notice)
        xml.raw("<person>")
        for mapping in Self.personElements { xml.element(mapping.element, text(mapping.field)) }
        xml.raw("</person>")
        for mapping in Self.caseElements { xml.element(mapping.element, text(mapping.field)) }
        xml.raw("<inhalt>")
        for mapping in content { xml.element(mapping.element, text(mapping.field)) }
        xml.raw("</inhalt></nachricht>\n")
        return OutboundDocument(bytes: xml.bytes, fileName: "\(id.lowercasedString).xml", contentType: "application/xml")
    }

    public func encode(_ receipt: Receipt) throws(Rejection) -> OutboundDocument {
        var xml = XMLOutput()
        let root = if case .accepted = receipt.outcome { "quittung" } else { "rueckweisung" }
        xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(root) xmlns=\"\(Self.namespace)\">")
        xml.element("referenzUUID", receipt.reference)
        xml.element("zeitpunkt", Self.formatTime(receipt.issuedAt))
        xml.element("nachrichtenUUID", receipt.senderMessageID)
        xml.element("bezugNachrichtenUUID", receipt.referralSenderMessageID)
        if case .rejected(let code, let reason) = receipt.outcome {
            xml.raw("<grund code=\"")
            xml.text(code)
            xml.raw("\">")
            xml.text(reason)
            xml.raw("</grund>")
        }
        xml.raw("</\(root)>\n")
        return OutboundDocument(bytes: xml.bytes, fileName: "receipt-\(receipt.reference).xml", contentType: "application/xml")
    }

    /// ISO 8601 with milliseconds and offset, e.g. `2026-01-10T10:00:00.000+01:00` or `…Z`.
    static func parseTime(_ text: String) -> Date? {
        guard text.count <= 40 else { return nil }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }

    static func formatTime(_ date: Date) -> String {
        ISO8601Time.format(date)
    }
}
