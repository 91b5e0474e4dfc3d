import Foundation
import WeicheCore

/// The URIs and mappings the `fhir-r4` format uses; `Docs/formats/fhir.md` documents them.
enum FHIRVocabulary {
    /// `coding.system` of a referral type (MessageHeader.eventCoding, ServiceRequest.code, Task.code).
    static let referralTypeSystem = "urn:weiche:referral-type"
    /// `identifier.system` of an agency (ServiceRequest.performer), and the prefix of endpoints.
    static let agencySystem = "urn:weiche:agency"
    /// `identifier.system` of the sender's own message id (the idempotency key).
    static let messageIDSystem = "urn:weiche:message-id"
    static let caseNumberSystem = "urn:weiche:case-number"
    static let caseworkerSystem = "urn:weiche:caseworker-id"
    static let consentSystem = "urn:weiche:consent-reference"
    /// `Task.output.type.coding.system`: the canonical field an output carries.
    static let fieldSystem = "urn:weiche:field"
    static let rejectionCodeSystem = "urn:weiche:rejection-code"
    /// `MessageHeader.eventCoding` of a receipt (a response message).
    static let receiptEvent = ("urn:weiche:event", "receipt")

    static let legalBasisExtension = "urn:weiche:fhir:legal-basis"
    static let purposeExtension = "urn:weiche:fhir:purpose"
    static let noticeExtension = "urn:weiche:fhir:notice"
    /// On `MessageHeader.response`: the receipted referral's id in its sender's system.
    static let referralMessageIDExtension = "urn:weiche:fhir:referral-message-id"
    static let nationalityExtension = "http://hl7.org/fhir/StructureDefinition/patient-nationality"

    /// Referral types sent as a ServiceRequest, and the one sent as a Task (a result).
    static let requestTypes: [ReferralType] = [ReferralType("gesundheit.begutachtung-auftrag")!, ReferralType("beratung.zuweisung")!]
    static let resultType = ReferralType("gesundheit.begutachtung-ergebnis")!

    static func endpoint(_ agency: AgencyID) -> String { "\(agencySystem):\(agency.rawValue)" }

    /// The agency an endpoint `urn:weiche:agency:<id>` names.
    static func agency(fromEndpoint endpoint: String) -> AgencyID? {
        let prefix = agencySystem + ":"
        guard endpoint.hasPrefix(prefix) else { return nil }
        return AgencyID(String(endpoint.dropFirst(prefix.count)))
    }

    /// Whether `text` is a FHIR `id`: `[A-Za-z0-9\-\.]{1,64}`.
    static func isFHIRID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    /// FHIR `instant` / `dateTime` with milliseconds in UTC, e.g. `2026-01-05T08:00:00.000Z`.
    static func instant(_ date: Date) -> String {
        ISO8601Time.format(date)
    }

    /// A full FHIR dateTime with time and offset; partial dates (`2026`, `2026-01-05`) are not
    /// precise enough for a message time.
    static func parseInstant(_ text: String) -> Date? {
        ISO8601Time.parse(text)
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}

/// Which resource inside a written Bundle an id belongs to. Ids are derived from the Weiche
/// message id, so encoding the same referral twice gives the same bytes.
enum EntryRole: UInt8 {
    case focus = 0, header = 1, patient = 2, practitioner = 3, consent = 4, bundle = 5
    case receiptHeader = 6, receiptOutcome = 7, receiptBundle = 8

    func id(in message: UUID) -> String {
        uuid(in: message).lowercasedString
    }

    /// The role's resource's id: the message's with its last byte changed by the role.
    func uuid(in message: UUID) -> UUID {
        var bytes = message.uuid
        bytes.15 ^= rawValue
        return UUID(uuid: bytes)
    }
}
