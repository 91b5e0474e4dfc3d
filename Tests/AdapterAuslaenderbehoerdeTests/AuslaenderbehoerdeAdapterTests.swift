import AdapterAuslaenderbehoerde
import Foundation
import Testing
import WeicheCore
import WeicheTesting

@Suite("Ausländerbehörde XML adapter")
struct AuslaenderbehoerdeAdapterTests {
    static let agency = AgencyID("auslaenderbehoerde")!
    let adapter = AuslaenderbehoerdeAdapter()

    static func fixture(_ name: String) throws -> [UInt8] {
        try ReferralSamples.fixture(name, besides: #filePath)
    }

    func decode(_ bytes: [UInt8]) -> [DecodedItem] {
        adapter.decode(InboundItem(name: "n.xml", bytes: bytes), from: Self.agency)
    }

    func rejection(_ bytes: [UInt8]) -> Rejection? {
        if case .rejected(let rejection)? = decode(bytes).first { rejection } else { nil }
    }

    @Test func residenceAnswerDecodesWithUmlautsAndCategories() throws {
        guard case .referral(let referral)? = decode(try Self.fixture("aufenthalt.auskunft.xml")).first else {
            Issue.record("\(decode(try Self.fixture("aufenthalt.auskunft.xml")))")
            return
        }
        #expect(referral.type.rawValue == "aufenthalt.auskunft")
        #expect(referral.recipients == [AgencyID("massarbeit")!])
        #expect(referral.inReplyTo == "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3")
        #expect(referral.createdAt == Date(timeIntervalSince1970: 1_768_035_600.125))
        #expect(referral[field: "details.workPermitted"] == .text("with-conditions"))
        #expect(referral[field: "details.conditions"] == .text("Beschäftigung nur in Weißenburg & Umgebung"))
        #expect(referral[field: "details.validUntil"] == .day("2028-05-31"))
        #expect(referral.fields.first { $0.name == "details.residenceTitle" }?.category == .residence)
    }

    @Test func obligationAndReceiptsDecode() throws {
        guard case .referral(let obligation)? = decode(try Self.fixture("integrationskurs.verpflichtung.xml")).first else {
            Issue.record("obligation did not decode")
            return
        }
        #expect(obligation[field: "person.familyName"] == .text("Nguyễn"))
        guard case .receipt(let receipt)? = decode(try Self.fixture("rueckweisung.xml")).first else {
            Issue.record("rueckweisung did not decode")
            return
        }
        #expect(receipt.outcome == .rejected(code: "UNBEKANNT", reason: "Person im Register nicht gefunden"))
        for outcome in [Receipt.Outcome.accepted, .rejected(code: "X", reason: "Grund <mit> & Zeichen")] {
            let sent = Receipt(reference: UUID().uuidString, from: Self.agency, outcome: outcome, issuedAt: Date(timeIntervalSince1970: 1_767_600_000),
                               referralSenderMessageID: "ABH-2026-<1>")
            guard case .receipt(let back)? = decode(try adapter.encode(sent).bytes).first else {
                Issue.record("receipt round trip failed")
                continue
            }
            #expect(back == sent)
        }
    }

    @Test(arguments: ["billion-laughs.xml", "external-entity.xml"])
    func entityAttacksAreRefusedUnexpanded(_ name: String) throws {
        let bytes = try Self.fixture(name)
        var before = rusage()
        getrusage(RUSAGE_SELF.rawValue, &before)
        let start = ContinuousClock.now
        let refused = rejection(bytes)
        let elapsed = ContinuousClock.now - start
        var after = rusage()
        getrusage(RUSAGE_SELF.rawValue, &after)
        #expect(refused?.reason == "the document declares a DTD or entities, which are not accepted")
        #expect((after.ru_maxrss - before.ru_maxrss) < 50 * 1024, "peak memory grew by \(after.ru_maxrss - before.ru_maxrss) KiB")
        #expect(elapsed < .seconds(1))
    }

    @Test(arguments: [
        ("<nachricht xmlns=\"urn:other\"/>", "nachricht", "namespace"),
        ("<nachricht xmlns=\"urn:weiche:auslaenderbehoerde:1\"><nachrichtenkopf/></nachricht>", "nachrichtenkopf/nachrichtenUUID", "missing"),
        ("<nachricht xmlns=\"urn:weiche:auslaenderbehoerde:1\"><nachrichtenkopf><nachrichtenUUID>7d1e2f30", nil, "not well-formed"),
    ] as [(String, String?, String)])
    func brokenDocumentsNameWhatIsWrong(xml: String, field: String?, reason: String) {
        let refused = rejection(Array(xml.utf8))
        #expect(refused?.field == field, "\(String(describing: refused))")
        #expect(refused?.reason.contains(reason) == true, "\(String(describing: refused))")
    }

    @Test func aBadChoiceNamesItsElementNotItsValue() throws {
        let text = String(decoding: try Self.fixture("aufenthalt.auskunft.xml"), as: UTF8.self)
            .replacingOccurrences(of: "mit-auflagen", with: "vielleicht-geheim")
        let refused = rejection(Array(text.utf8))
        #expect(refused?.field == "inhalt/erwerbstaetigkeit")
        #expect(refused?.description.contains("vielleicht-geheim") == false)
    }

    /// A referral of `spec`'s type with every field the XML carries, its texts full of markup characters.
    static func sample(_ spec: ReferralCatalogue.TypeSpec) -> Referral {
        let carried: Set = ["person.familyName", "person.givenName", "person.birthDate", "person.nationality", "person.address",
                            "caseNumber", "caseworker.name"]
        return ReferralSamples.referral(
            spec, from: agency, to: AgencyID("massarbeit")!, createdAt: Date(timeIntervalSince1970: 1_767_600_000.5),
            carries: { carried.contains($0) || $0.hasPrefix("details.") }, text: { "Beispiel <\($0)> & äöü ß ễ" })
    }

    @Test func conformsForEveryTypeItCarries() {
        let samples = adapter.supportedTypes.sorted().compactMap(ReferralCatalogue.spec(for:)).map(Self.sample)
        let findings = AdapterConformance(adapter: adapter, agency: Self.agency, samples: samples).run()
        #expect(findings.isEmpty, "\(findings)")
    }
}

/// The exact bytes the XML writer produces for every type it carries and for both receipts
/// (fixtures in `Fixtures/written/`). `WEICHE_WRITE_FIXTURES=1` writes them anew after a
/// deliberate change of the format.
@Suite("Ausländerbehörde XML adapter: written bytes")
struct AuslaenderbehoerdeWrittenBytesTests {
    static let id = UUID(uuidString: "01937a4e-58c0-7d2a-9b3c-4d5e6f708192")!

    static func referral(_ type: String, configure: (inout Referral) -> Void = { _ in }) -> Referral {
        let spec = ReferralCatalogue.spec(for: ReferralType(type)!)!
        var referral = ReferralSamples.referral(
            spec, from: AgencyID("massarbeit")!, to: AgencyID("auslaenderbehoerde")!, senderMessageID: "MA-2026-000042",
            createdAt: Date(timeIntervalSince1970: 1_767_600_420.5), text: { "Wert \"\($0.count)\" <&> ' äöü ß ễ\t" })
        referral.id = id
        referral.inReplyTo = "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
        configure(&referral)
        return referral
    }

    static let cases: [(String, Referral)] = [
        ("auskunft-anfrage", referral("aufenthalt.auskunft-anfrage") { $0.notice = "Zweckbindung & <Hinweis>" }),
        ("auskunft", referral("aufenthalt.auskunft") {
            $0.fields = $0.fields.map { field in
                field.name == "details.workPermitted" ? ReferralField(field.name, field.category, .text("with-conditions")) : field
            }
            $0.consentReference = nil
            $0.inReplyTo = nil
        }),
        ("verpflichtung-minimal", referral("integrationskurs.verpflichtung") {
            $0.fields = $0.fields.filter { $0.name.hasPrefix("person.") }
            $0.purpose = ""
        }),
    ]

    static let receipts: [(String, Receipt)] = [
        ("receipt-accepted", Receipt(reference: id.uuidString.lowercased(), from: AgencyID("massarbeit")!, outcome: .accepted,
                                     issuedAt: Date(timeIntervalSince1970: 1_767_600_000.25))),
        ("receipt-rejected", Receipt(reference: "ABH-<1>", from: AgencyID("massarbeit")!, senderMessageID: "MA-Q-1",
                                     outcome: .rejected(code: "X&1", reason: "Grund mit \"Anführung\" & ß"),
                                     issuedAt: Date(timeIntervalSince1970: 1_767_600_000.25), referralSenderMessageID: "ABH-2026-7")),
    ]

    func check(_ name: String, _ bytes: [UInt8]) throws {
        let expected = try ReferralSamples.pinned(bytes, as: "\(name).xml", besides: #filePath)
        #expect(bytes == expected, "\(name): written bytes differ from Fixtures/written/\(name).xml")
    }

    @Test func messagesAndReceiptsAreWrittenByteForByteAsBefore() throws {
        for (name, referral) in Self.cases { try check(name, try AuslaenderbehoerdeAdapter().encode(referral).bytes) }
        for (name, receipt) in Self.receipts { try check(name, try AuslaenderbehoerdeAdapter().encode(receipt).bytes) }
    }
}
