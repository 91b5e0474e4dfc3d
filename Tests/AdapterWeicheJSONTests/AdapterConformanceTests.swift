import Foundation
import Testing
import WeicheCore
import WeicheTesting
import AdapterWeicheJSON

@Suite("The adapter conformance suite")
struct AdapterConformanceTests {
    static let agency = AgencyID("massarbeit")!
    static let type = ReferralType("kinderbetreuung.anfrage")!

    static func sample() -> Referral {
        Referral(
            id: UUID(), senderMessageID: "m-1", type: type, sender: agency, recipients: [AgencyID("jugendamt")!],
            createdAt: Date(timeIntervalSince1970: 1_767_600_000), legalBasis: "§ 69 SGB X", purpose: "Kinderbetreuung",
            fields: [
                ReferralField("person.familyName", .identity, .text("Schmidt-Öztürk")),
                ReferralField("details.childrenAges", .family, .list([.integer(2), .integer(5)])),
            ])
    }

    @Test func theWeicheJSONAdapterConforms() {
        let findings = AdapterConformance(adapter: WeicheJSONAdapter(supportedTypes: [Self.type]), agency: Self.agency, samples: [Self.sample()]).run()
        #expect(findings.isEmpty, "\(findings)")
    }

    @Test func theTestLinesAdapterConforms() {
        let findings = AdapterConformance(adapter: TestLinesAdapter(supportedTypes: [Self.type]), agency: Self.agency, samples: [Self.sample()]).run()
        #expect(findings.isEmpty, "\(findings)")
    }

    /// An adapter that breaks the rules, to show the suite notices.
    struct CarelessAdapter: AgencyAdapter {
        static let name = "careless"
        var supportedTypes: Set<ReferralType> { [AdapterConformanceTests.type, ReferralType("aufenthalt.auskunft")!] }

        func decode(_ item: InboundItem, from agency: AgencyID) -> [DecodedItem] {
            guard let text = String(validating: item.bytes, as: UTF8.self), text.hasPrefix("NAME=") else {
                // Quotes the input back, and says nothing at all for empty input.
                return item.bytes.isEmpty ? [] : [.rejected(Rejection(reason: "bad input: \(String(decoding: item.bytes.prefix(40), as: UTF8.self))"))]
            }
            var referral = AdapterConformanceTests.sample()
            referral.fields = [ReferralField("person.familyName", .identity, .text(String(text.dropFirst(5))))]
            return [.referral(referral)]
        }

        func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument {
            guard case .text(let name)? = referral[field: "person.familyName"] else { throw Rejection(reason: "no name") }
            return OutboundDocument(bytes: Array("NAME=\(name)".utf8), fileName: "out.txt", contentType: "text/plain")
        }

        func encode(_ receipt: Receipt) throws(Rejection) -> OutboundDocument {
            throw Rejection(reason: "no receipts")
        }
    }

    @Test func aCarelessAdapterIsCaught() {
        let findings = AdapterConformance(adapter: CarelessAdapter(), agency: Self.agency, samples: [Self.sample()], randomInputs: 10).run()
        let checks = findings.map(\.description)
        #expect(checks.contains { $0.hasPrefix("samples: no sample referral of supported type aufenthalt.auskunft") })
        #expect(checks.contains { $0.contains("decode returned nothing") }, "empty input gave no result")
        #expect(checks.contains { $0.contains("does not carry the Weiche message id") })
        #expect(checks.contains { $0.contains("differs in: field details.childrenAges") })
        #expect(checks.contains { $0.contains("quotes a field value") })
    }
}
