import Foundation
import WeicheCore

/// Weiche's own format: the canonical ``Referral`` as JSON, one referral or an array of them
/// per item (see `Docs/formats/weiche-json.md`). For partners that integrate with Weiche
/// directly, for operators' smoke tests, and as the smallest example of an adapter.
public struct WeicheJSONAdapter: AgencyAdapter {
    public static let name = "weiche-json"
    public let supportedTypes: Set<ReferralType>

    public init(supportedTypes: Set<ReferralType> = []) {
        self.supportedTypes = supportedTypes
    }

    public func decode(_ item: InboundItem, from agency: AgencyID) -> [DecodedItem] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        if let single = try? decoder.decode(Referral.self, from: Data(item.bytes)) {
            return [decoded(single, from: agency, position: "")]
        }
        if var receipt = try? decoder.decode(Receipt.self, from: Data(item.bytes)) {
            receipt.from = agency
            return [.receipt(receipt)]
        }
        guard let array = try? decoder.decode([Lenient].self, from: Data(item.bytes)) else {
            return [.rejected(Rejection(reason: "not a referral or an array of referrals in JSON"))]
        }
        return array.enumerated().map { index, element in
            guard let referral = element.referral else {
                return .rejected(Rejection(position: "[\(index)]", reason: "not a referral"))
            }
            return decoded(referral, from: agency, position: "[\(index)]")
        }
    }

    private func decoded(_ referral: Referral, from agency: AgencyID, position: String) -> DecodedItem {
        if !supportedTypes.isEmpty && !supportedTypes.contains(referral.type) {
            return .rejected(Rejection(position: position, field: "type", reason: "unknown referral type '\(referral.type)'"))
        }
        var referral = referral
        referral.sender = agency
        return .referral(referral)
    }

    public func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        guard let id = referral.id, let data = try? encoder.encode(referral) else {
            throw Rejection(reason: "the referral has no Weiche id or cannot be encoded")
        }
        return OutboundDocument(bytes: [UInt8](data), fileName: "\(id.lowercasedString).json", contentType: "application/json")
    }

    public func encode(_ receipt: Receipt) throws(Rejection) -> OutboundDocument {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(receipt) else { throw Rejection(reason: "the receipt cannot be encoded") }
        return OutboundDocument(bytes: [UInt8](data), fileName: "receipt-\(receipt.reference).json", contentType: "application/json")
    }

    /// An array element that may or may not be a referral.
    private struct Lenient: Decodable {
        var referral: Referral?
        init(from decoder: any Decoder) throws {
            referral = try? Referral(from: decoder)
        }
    }
}
