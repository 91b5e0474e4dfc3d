import Foundation
import WeicheCore

/// The health partners' HL7 FHIR R4 JSON (`fhir-r4`): a message `Bundle` whose MessageHeader
/// focuses a ServiceRequest (a referral) or a Task (a result), with the Patient, the
/// caseworker's Practitioner and the Consent; a response message is a receipt. A standalone
/// `ServiceRequest`, with its Patient contained, is accepted when it names everything routing
/// needs. See `Docs/formats/fhir.md`.
///
/// Diagnoses, conditions and reason codes are read into fields of category `health`, so that
/// policy can keep them from recipients whose route does not allow health data.
public struct FHIRAdapter: AgencyAdapter {
    public static let name = "fhir-r4"
    /// The largest document read; larger ones are rejected unread.
    public static let maximumSize = 10 << 20

    public var supportedTypes: Set<ReferralType> { Set(FHIRVocabulary.requestTypes + [FHIRVocabulary.resultType]) }

    public init() {}

    public func decode(_ item: InboundItem, from agency: AgencyID) -> [DecodedItem] {
        guard item.bytes.count <= Self.maximumSize else {
            return [.rejected(Rejection(reason: "the document has \(item.bytes.count) bytes; at most \(Self.maximumSize) are accepted"))]
        }
        guard case .object(let resource)? = try? JSONDecoder().decode(JSONValue.self, from: Data(item.bytes)) else {
            return [.rejected(Rejection(reason: "not a FHIR JSON resource (expected a UTF-8 JSON object)"))]
        }
        var reader = Reader(agency: agency)
        let result: DecodedItem?
        switch resource["resourceType"] {
        case .string("Bundle"): result = reader.message(resource)
        case .string("ServiceRequest"): result = reader.standalone(resource)
        case .string(let other):
            let shown = FHIRVocabulary.isResourceTypeName(other) ? "a \(other) resource" : "this resource"
            result = nil
            reader.problem("resourceType", "\(shown) cannot be routed: Weiche accepts a message Bundle or a ServiceRequest")
        default:
            result = nil
            reader.problem("resourceType", "is missing: not a FHIR resource")
        }
        if let result, reader.problems.isEmpty { return [result] }
        var first = reader.problems.first ?? Rejection(reason: "unreadable")
        if reader.problems.count > 1 {
            first.reason += " (and \(reader.problems.count - 1) more problem\(reader.problems.count == 2 ? "" : "s"))"
        }
        return [.rejected(first)]
    }

    public func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument {
        guard let id = referral.id else { throw Rejection(reason: "the referral has no Weiche message id") }
        let bundle = try Writer(referral: referral, id: id).bundle()
        return OutboundDocument(bytes: bundle, fileName: "\(id.lowercasedString).json", contentType: "application/fhir+json")
    }

    public func encode(_ receipt: Receipt) throws(Rejection) -> OutboundDocument {
        let bundle = try Self.receiptBundle(receipt)
        return OutboundDocument(bytes: bundle, fileName: "receipt-\(receipt.reference).json", contentType: "application/fhir+json")
    }
}

extension FHIRVocabulary {
    /// Whether `text` looks like a FHIR resource type name (so it can be named in a message
    /// without echoing arbitrary input).
    static func isResourceTypeName(_ text: String) -> Bool {
        (1...40).contains(text.utf8.count) && text.first?.isUppercase == true
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic) }
    }
}
