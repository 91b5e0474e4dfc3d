import AdapterMassArbeit
import Foundation
import Testing
import WeicheCore
import WeicheTesting

@Suite("MaßArbeit JSON adapter")
struct MassArbeitAdapterTests {
    static let agency = AgencyID("massarbeit")!
    let adapter = MassArbeitAdapter()

    static func fixture(_ path: String) throws -> [UInt8] {
        try ReferralSamples.fixture(path, besides: #filePath)
    }

    func decode(_ bytes: [UInt8]) -> [DecodedItem] {
        adapter.decode(InboundItem(name: "f.json", bytes: bytes), from: Self.agency)
    }

    func single(_ path: String) throws -> Referral {
        let decoded = decode(try Self.fixture(path))
        guard decoded.count == 1, case .referral(let referral) = decoded[0] else {
            Issue.record("\(path): \(decoded)")
            throw CancellationError()
        }
        return referral
    }

    /// Members of an object are read in no particular order; the problems are reported by
    /// name all the same, so the first one and the count never change from run to run.
    @Test func problemsInManyMembersAreReportedInNameOrderEveryTime() throws {
        let valid = String(decoding: try Self.fixture("valid/kinderbetreuung.anfrage.json"), as: UTF8.self)
        let broken = valid
            .replacingOccurrences(of: #""childrenAges": [2, 5], "hoursPerWeek": 30"#,
                                  with: #""zzz": 1, "childrenAges": [2, "x"], "hoursPerWeek": "30", "aaa": true"#)
            .replacingOccurrences(of: #""nationality": "TR""#, with: #""nationality": 7, "shoeSize": "44""#)
        var seen: Set<String> = []
        for _ in 0..<20 {
            let decoded = decode(Array(broken.utf8))
            guard decoded.count == 1, case .rejected(let rejection) = decoded[0] else {
                Issue.record("\(decoded)")
                return
            }
            seen.insert(rejection.description)
        }
        #expect(seen.count == 1, "\(seen)")
        // person.* is read before details.*: person.nationality and person.shoeSize, then
        // details.aaa, details.childrenAges, details.hoursPerWeek and details.zzz.
        #expect(seen.first?.contains("field person.nationality: must be a string, not a number (and 5 more problems)") == true, "\(seen)")
    }

    @Test func childcareRequestMapsEveryFieldWithItsCategory() throws {
        let referral = try single("valid/kinderbetreuung.anfrage.json")
        #expect(referral.type.rawValue == "kinderbetreuung.anfrage")
        #expect(referral.sender == Self.agency)
        #expect(referral.recipients == [AgencyID("jugendamt")!])
        #expect(referral.senderMessageID == "2f1c7a52-1b5e-4c0e-9d8a-0d6f5b7e1a01")
        #expect(referral.createdAt == Date(timeIntervalSince1970: 1_767_600_000.25), "09:00:00.250+01:00 is 08:00:00.25 UTC")
        #expect(referral[field: "person.familyName"] == .text("Öztürk"))
        #expect(referral[field: "person.givenName"] == .text("Ayşe"))
        #expect(referral[field: "person.birthDate"] == .day("1990-02-28"))
        #expect(referral[field: "details.childrenAges"] == .list([.integer(2), .integer(5)]))
        #expect(referral[field: "details.startDate"] == .day("2026-08-01"))
        let categories = Dictionary(uniqueKeysWithValues: referral.fields.map { ($0.name, $0.category) })
        #expect(categories["person.address"] == .contact)
        #expect(categories["caseworker.phone"] == .case)
        #expect(categories["details.hoursPerWeek"] == .family)
        #expect(ReferralCatalogue.problems(in: referral).isEmpty)
    }

    @Test func healthReferralCarriesConsentAndHealthCategory() throws {
        let referral = try single("valid/gesundheit.begutachtung-auftrag.json")
        #expect(referral.consentReference == "EW-2026-0042")
        #expect(referral.fields.first { $0.name == "details.reason" }?.category == .health)
        #expect(referral.recipients == [AgencyID("gesundheitsamt")!], "'to' may be a list")
    }

    @Test(arguments: ["aufenthalt.auskunft-anfrage", "beratung.zuweisung"])
    func otherSentTypesDecode(_ type: String) throws {
        #expect(try single("valid/\(type).json").type.rawValue == type)
    }

    @Test func receiptsDecode() throws {
        let decoded = decode(try Self.fixture("valid/receipt.rejected.json"))
        guard case .receipt(let receipt) = decoded.first else {
            Issue.record("\(decoded)")
            return
        }
        #expect(receipt.reference == "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
        #expect(receipt.outcome == .rejected(code: "NICHT-ZUSTAENDIG", reason: "Fall liegt beim Nachbarkreis"))
        #expect(receipt.from == Self.agency)
    }

    @Test(arguments: [
        ("invalid/missing-birthdate.json", "person.birthDate", "required"),
        ("invalid/wrong-types.json", "details.childrenAges", "list of whole numbers"),
        ("invalid/unknown-type.json", "type", "unknown referral type"),
        ("invalid/no-offset.json", "createdAt", "ISO 8601"),
        ("invalid/truncated.json", nil, "not valid UTF-8 JSON"),
        ("invalid/latin1.json", nil, "not valid UTF-8 JSON"),
    ] as [(String, String?, String)])
    func invalidFilesAreRejectedNamingTheField(path: String, field: String?, reason: String) throws {
        let decoded = decode(try Self.fixture(path))
        guard decoded.count == 1, case .rejected(let rejection) = decoded[0] else {
            Issue.record("\(path) was not rejected: \(decoded)")
            return
        }
        #expect(rejection.field == field, "\(path): \(rejection)")
        #expect(rejection.reason.contains(reason), "\(path): \(rejection)")
        #expect(!rejection.description.contains("Geheimname") && !rejection.description.contains("zwei"), "no values in reasons")
    }

    @Test func oneBadElementOfAnArrayIsRejectedAlone() throws {
        let good = String(decoding: try Self.fixture("valid/kinderbetreuung.anfrage.json"), as: UTF8.self)
        let other = String(decoding: try Self.fixture("valid/beratung.zuweisung.json"), as: UTF8.self)
        let bad = String(decoding: try Self.fixture("invalid/missing-birthdate.json"), as: UTF8.self)
        let decoded = decode(Array("[\(good), \(bad), \(other)]".utf8))
        #expect(decoded.count == 3)
        guard case .referral = decoded[0], case .rejected(let rejection) = decoded[1], case .referral = decoded[2] else {
            Issue.record("\(decoded)")
            return
        }
        #expect(rejection.position == "[1]")
        #expect(rejection.field == "person.birthDate")
    }

    @Test func oversizedInputIsRejectedUnread() {
        let decoded = decode([UInt8](repeating: 0x20, count: MassArbeitAdapter.maximumSize + 1))
        guard case .rejected(let rejection) = decoded.first else {
            Issue.record("\(decoded)")
            return
        }
        #expect(rejection.reason.contains("at most"))
    }

    @Test func conformsForEveryReferralType() {
        let samples = ReferralCatalogue.types.map {
            ReferralSamples.referral($0, from: Self.agency, to: AgencyID("jugendamt")!, createdAt: Date(timeIntervalSince1970: 1_767_600_000.125))
        }
        let findings = AdapterConformance(adapter: adapter, agency: Self.agency, samples: samples).run()
        #expect(findings.isEmpty, "\(findings)")
    }

    @Test func encodedReceiptsDecodeBack() throws {
        let receipt = Receipt(reference: UUID().uuidString, from: Self.agency, senderMessageID: "r-1", outcome: .accepted,
                              issuedAt: Date(timeIntervalSince1970: 1_767_600_000), referralSenderMessageID: "2f1c7a52-1b5e-4c0e-9d8a-0d6f5b7e1a01")
        let document = try adapter.encode(receipt)
        guard case .receipt(let back) = decode(document.bytes).first else {
            Issue.record("receipt did not decode")
            return
        }
        #expect(back == receipt)
    }
}

/// What MaßArbeit receives (answers and receipts), pinned byte for byte: a change of the writer
/// must not change a byte. `WEICHE_WRITE_FIXTURES=1` rewrites the pinned files after a
/// deliberate change of the format.
@Suite("MaßArbeit JSON adapter: written bytes")
struct MassArbeitWrittenBytesTests {
    static let createdAt = Date(timeIntervalSince1970: 1_767_600_000.123)
    static let messageID = UUID(uuidString: "0F3E2D1C-4B5A-4978-8695-A4B3C2D1E0F9")!

    /// Every catalogue type, its texts holding what JSON must escape or may leave alone.
    static func referral(_ spec: ReferralCatalogue.TypeSpec, configure: (inout Referral) -> Void = { _ in }) -> Referral {
        var referral = ReferralSamples.referral(
            spec, from: AgencyID("gesundheitsamt")!, to: AgencyID("massarbeit")!, senderMessageID: "GA-2026/0042", createdAt: createdAt,
            text: { "Wert \"\($0.count)\" \\ / äöü ß ễ 😀\t\n\u{1}\u{7F}\u{2028}" })
        referral.id = messageID
        referral.inReplyTo = "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
        configure(&referral)
        return referral
    }

    static var cases: [(String, Referral)] {
        ReferralCatalogue.types.map { spec in ("referral-\(spec.type.rawValue)", referral(spec)) } + [
            ("referral-two-recipients", referral(ReferralCatalogue.types[0]) {
                $0.recipients.append(AgencyID("jugendamt")!)
                $0.notice = "Zweckbindung nach § 78 SGB X"
            }),
            ("referral-minimal", referral(ReferralCatalogue.types[0]) {
                $0.fields = []
                $0.consentReference = nil
                $0.inReplyTo = nil
                $0.createdAt = Date(timeIntervalSince1970: 1_767_600_000)
            }),
        ]
    }

    static let receipts: [(String, Receipt)] = [
        ("receipt-accepted", Receipt(reference: messageID.uuidString.lowercased(), from: AgencyID("gesundheitsamt")!,
                                     outcome: .accepted, issuedAt: createdAt)),
        ("receipt-rejected", Receipt(reference: messageID.uuidString.lowercased(), from: AgencyID("jugendamt")!,
                                     senderMessageID: "JA-QUITT/0099", outcome: .rejected(code: "X-1", reason: "Grund mit \"Anführung\" & ß / \\"),
                                     issuedAt: Date(timeIntervalSince1970: 1_767_600_000.5), referralSenderMessageID: "MA-2026-000042")),
    ]

    func check(_ name: String, _ bytes: [UInt8]) throws {
        let expected = try ReferralSamples.pinned(bytes, as: "\(name).json", besides: #filePath)
        #expect(bytes == expected, "\(name): written bytes differ from Fixtures/written/\(name).json")
    }

    @Test func referralsAreWrittenByteForByteAsBefore() throws {
        for (name, referral) in Self.cases {
            try check(name, try MassArbeitAdapter().encode(referral).bytes)
        }
    }

    @Test func receiptsAreWrittenByteForByteAsBefore() throws {
        for (name, receipt) in Self.receipts {
            try check(name, try MassArbeitAdapter().encode(receipt).bytes)
        }
    }
}
