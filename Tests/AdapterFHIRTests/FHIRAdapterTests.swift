import AdapterFHIR
import Foundation
import Testing
import WeicheCore
import WeicheTesting

@Suite("FHIR R4 adapter")
struct FHIRAdapterTests {
    static let agency = AgencyID("gesundheitsamt")!
    let adapter = FHIRAdapter()

    static func fixture(_ name: String) throws -> [UInt8] {
        try ReferralSamples.fixture(name, besides: #filePath)
    }

    func decode(_ bytes: [UInt8], from agency: AgencyID = Self.agency) -> [DecodedItem] {
        adapter.decode(InboundItem(name: "n.json", bytes: bytes), from: agency)
    }

    func single(_ name: String) throws -> Referral? {
        let results = decode(try Self.fixture(name))
        guard results.count == 1, case .referral(let referral) = results[0] else {
            Issue.record("\(name): \(results)")
            return nil
        }
        return referral
    }

    func rejection(_ bytes: [UInt8]) -> Rejection? {
        let results = decode(bytes)
        guard results.count == 1, case .rejected(let rejection) = results[0] else { return nil }
        return rejection
    }

    @Test func resultTaskLabelsDiagnosesConditionsAndFindingsHealth() throws {
        guard let result = try single("valid/gesundheit.begutachtung-ergebnis.json") else { return }
        #expect(result.type.rawValue == "gesundheit.begutachtung-ergebnis")
        #expect(result.sender == Self.agency)
        #expect(result.recipients == [AgencyID("massarbeit")!])
        #expect(result.senderMessageID == "GA-2026-000417")
        #expect(result.inReplyTo == "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3")
        #expect(result.legalBasis == "§ 50 Abs. 1 Satz 2 SGB II")
        #expect(result.createdAt == Date(timeIntervalSince1970: 1_770_730_200))
        #expect(result[field: "person.familyName"] == .text("Größer"))
        #expect(result[field: "person.birthDate"] == .day("1979-11-03"))
        #expect(result[field: "caseworker.name"] == .text("Dr. med. Weiß"))
        #expect(result[field: "details.hoursPerDay"] == .text("3-to-6"))
        // Reason codes and Condition resources both become diagnoses; findings stay findings.
        #expect(result[field: "details.diagnoses"] == .text("Kreuzschmerz; Lumbale Radikulopathie"))
        let categories = Dictionary(uniqueKeysWithValues: result.fields.map { ($0.name, $0.category) })
        #expect(categories["details.diagnoses"] == .health)
        #expect(categories["details.findings"] == .health)
        #expect(categories["details.restrictions"] == .capacity)
        // What the job centre may see of it: no health category survives minimisation.
        let (minimised, removal) = result.minimised(to: [.identity, .case, .capacity])
        #expect(!minimised.fields.contains { $0.category == .health })
        #expect(Set(removal.removed.map(\.field)) == ["details.diagnoses", "details.findings"])
    }

    @Test func standaloneServiceRequestIsRoutedWithItsContainedPatientAndConsent() throws {
        guard let request = try single("valid/service-request.standalone.json") else { return }
        #expect(request.type.rawValue == "beratung.zuweisung")
        #expect(request.recipients == [AgencyID("psychosoziale-beratung")!])
        #expect(request.consentReference == "EW-2026-0815")
        #expect(request[field: "person.givenName"] == .text("Ayşe"))
        #expect(request[field: "person.phone"] == .text("0731 123456"))
        #expect(request[field: "details.urgency"] == .text("urgent"))
        #expect(request.fields.first { $0.name == "details.reason" }?.category == .health)
    }

    @Test(arguments: [
        ("valid/gesundheit.begutachtung-auftrag.json", "gesundheitsamt", "Rückenschmerzen seit 2 Jahren, mehrfach arbeitsunfähig"),
        ("valid/beratung.zuweisung.json", "psychosoziale-beratung", "Überschuldung und drohender Wohnungsverlust belasten die Arbeitsaufnahme"),
    ])
    func requestBundlesDecodeWithTheirEnvelope(name: String, recipient: String, reason: String) throws {
        let results = decode(try Self.fixture(name), from: AgencyID("massarbeit")!)
        guard case .referral(let request)? = results.first else {
            Issue.record("\(results)")
            return
        }
        #expect(request.recipients == [AgencyID(recipient)!])
        #expect(request.senderMessageID == "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3")
        #expect(request.consentReference == "EW-2026-0815")
        #expect(request[field: "person.familyName"] == .text("Öztürk"))
        #expect(request[field: "person.nationality"] == .text("türkisch"))
        #expect(request[field: "caseworker.name"] == .text("Frau Schäfer"))
        #expect(request[field: "caseNumber"] == .text("MA-2026-04711"))
        #expect(request[field: "details.reason"] == .text(reason))
        #expect(request.fields.first { $0.name == "details.reason" }?.category == .health)
        if recipient == "psychosoziale-beratung" {
            #expect(request.notice?.hasPrefix("Zweckbindung nach § 78 SGB X") == true)
        }
    }

    @Test func receiptsAreResponseMessages() throws {
        guard case .receipt(let rejected)? = decode(try Self.fixture("valid/receipt.rejected.json")).first,
            case .receipt(let accepted)? = decode(try Self.fixture("valid/receipt.accepted.json")).first
        else {
            Issue.record("receipts did not decode")
            return
        }
        #expect(rejected.reference == "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3")
        #expect(rejected.outcome == .rejected(code: "EINWILLIGUNG-FEHLT", reason: "Die Einwilligung liegt dem Gesundheitsamt nicht vor"))
        #expect(rejected.senderMessageID == "GA-QUITT-0099")
        #expect(accepted.outcome == .accepted)
        for outcome in [Receipt.Outcome.accepted, .rejected(code: "X-1", reason: "Grund mit \"Anführung\" & ß")] {
            let sent = Receipt(reference: UUID().uuidString.lowercased(), from: Self.agency, senderMessageID: "Q-1", outcome: outcome,
                               issuedAt: Date(timeIntervalSince1970: 1_767_600_000.5), referralSenderMessageID: "GA-2026-000417")
            guard case .receipt(let back)? = decode(try adapter.encode(sent).bytes).first else {
                Issue.record("receipt round trip failed for \(outcome)")
                continue
            }
            #expect(back == sent)
        }
    }

    @Test(arguments: [
        ("invalid/truncated.json", nil, "not a FHIR JSON resource"),
        ("invalid/latin1.json", nil, "not a FHIR JSON resource"),
        ("invalid/missing-birthdate.json", "Patient.birthDate", "is required"),
        ("invalid/wrong-type-birthdate.json", "Patient.birthDate", "must be a string, not a number"),
        ("invalid/unknown-type.json", "MessageHeader.eventCoding.code", "not a referral type"),
        ("invalid/unknown-element.json", "Patient.gender", "not carried by Weiche"),
        ("invalid/missing-legal-basis.json", "Task.extension", "no legal basis"),
        ("invalid/collection-bundle.json", "Bundle.type", "only message Bundles"),
        ("invalid/patient-only.json", "resourceType", "a Patient resource cannot be routed"),
        ("invalid/bad-choice.json", "Task.output(details.hoursPerDay)", "must be one of"),
    ] as [(String, String?, String)])
    func invalidFixturesNameTheField(name: String, field: String?, reason: String) throws {
        let refused = rejection(try Self.fixture(name))
        #expect(refused?.field == field, "\(name): \(String(describing: refused))")
        #expect(refused?.reason.contains(reason) == true, "\(name): \(String(describing: refused))")
    }

    @Test func rejectionsNameFieldsNotValues() throws {
        let text = String(decoding: try Self.fixture("valid/gesundheit.begutachtung-ergebnis.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"1979-11-03\"", with: "\"Geheimnis-Zwölf\"")
        let refused = rejection(Array(text.utf8))
        #expect(refused?.field == "Patient.birthDate")
        #expect(refused?.description.contains("Geheimnis") == false)
    }

    @Test func oversizedInputIsRejectedUnread() {
        let huge = [UInt8](repeating: 0x20, count: FHIRAdapter.maximumSize + 1)
        #expect(rejection(huge)?.reason.contains("at most") == true)
    }

    @Test func aStandaloneRequestWithoutRecipientOrPatientSaysWhatIsMissing() throws {
        let base = String(decoding: try Self.fixture("valid/service-request.standalone.json"), as: UTF8.self)
        let noPerformer = base.replacingOccurrences(of: "\"urn:weiche:agency\"", with: "\"urn:other\"")
        #expect(rejection(Array(noPerformer.utf8))?.field == "ServiceRequest.performer")
        let externalPatient = base.replacingOccurrences(of: "\"subject\": { \"reference\": \"#p\" }", with: "\"subject\": { \"reference\": \"Patient/123\" }")
        let refused = rejection(Array(externalPatient.utf8))
        #expect(refused?.field == "ServiceRequest.subject")
        #expect(refused?.reason.contains("not in the document") == true)
    }

    /// A referral of `spec`'s type with every field the format carries.
    static func sample(_ spec: ReferralCatalogue.TypeSpec) -> Referral {
        let from = spec.type.rawValue.hasSuffix("ergebnis") ? agency : AgencyID("massarbeit")!
        let to = spec.type.rawValue.hasSuffix("ergebnis") ? AgencyID("massarbeit")! : agency
        var referral = ReferralSamples.referral(
            spec, from: from, to: to, createdAt: Date(timeIntervalSince1970: 1_767_600_000.5),
            text: { "Wert \"\($0.count)\" \\ äöü ß ễ" })
        referral.sender = agency
        referral.notice = "Zweckbindung nach § 78 SGB X"
        return referral
    }

    static var samples: [Referral] {
        FHIRAdapter().supportedTypes.sorted().compactMap(ReferralCatalogue.spec(for:)).map(sample)
    }

    @Test func conformsForEveryTypeItCarries() {
        let findings = AdapterConformance(adapter: adapter, agency: Self.agency, samples: Self.samples).run()
        #expect(findings.isEmpty, "\(findings)")
    }

    @Test func encodingIsDeterministicAndKeepsTheWeicheIDForTheAnswer() throws {
        let sample = Self.samples.first { $0.type.rawValue == "gesundheit.begutachtung-auftrag" }!
        let first = try adapter.encode(sample), second = try adapter.encode(sample)
        #expect(first == second)
        #expect(first.contentType == "application/fhir+json")
        // The ServiceRequest carries the Weiche id, which the partner's Task refers to in basedOn.
        let text = String(decoding: first.bytes, as: UTF8.self)
        #expect(text.contains("\"id\": \"\(sample.id!.uuidString.lowercased())\""))
        #expect(text.hasPrefix("{\n  \"resourceType\": \"Bundle\","), "FHIR readers expect resourceType first")
    }

    @Test func typesOutsideTheFormatAreRefusedOnEncode() {
        let spec = ReferralCatalogue.spec(for: ReferralType("kinderbetreuung.anfrage")!)!
        let referral = ReferralSamples.referral(spec, from: AgencyID("massarbeit")!, to: Self.agency)
        #expect(throws: Rejection.self) { try adapter.encode(referral) }
    }

    /// Every Bundle this adapter writes in the suite validates as FHIR R4 with the independent
    /// `fhir.resources` package (model R4B). CI installs it (see `.ci/run`); elsewhere the test
    /// runs when `python3 -c 'import fhir.resources.R4B'` works.
    @Test(.enabled(if: FHIRValidator.shouldRun))
    func everyWrittenBundleValidatesAsR4() async throws {
        var documents: [OutboundDocument] = Self.samples.compactMap { try? adapter.encode($0) }
        #expect(documents.count == 3)
        var minimal = Self.samples[0]
        minimal.fields = minimal.fields.filter { $0.name.hasPrefix("details.") }
        minimal.consentReference = nil
        minimal.inReplyTo = "not a fhir id / with spaces"
        documents.append(try adapter.encode(minimal))
        for outcome in [Receipt.Outcome.accepted, .rejected(code: "X", reason: "Grund")] {
            documents.append(try adapter.encode(Receipt(
                reference: UUID().uuidString.lowercased(), from: Self.agency, outcome: outcome, issuedAt: Date(), referralSenderMessageID: "MA 4711")))
        }
        var bytes = documents.map(\.bytes)
        for name in ["gesundheit.begutachtung-auftrag", "beratung.zuweisung", "gesundheit.begutachtung-ergebnis", "receipt.accepted",
                     "receipt.rejected", "service-request.standalone"] {
            bytes.append(try Self.fixture("valid/\(name).json"))
        }
        let failures = try await FHIRValidator.validate(bytes)
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test(.enabled(if: FHIRValidator.shouldRun))
    func theValidatorItselfRejectsInvalidR4() async throws {
        let broken = Array(#"{"resourceType": "Bundle", "type": "message", "entry": [{"resource": {"resourceType": "Patient", "birthDate": 5}}]}"#.utf8)
        #expect(try await FHIRValidator.validate([broken]).count == 1)
    }
}

/// The exact bytes the writer produces for referrals and receipts of every shape it knows
/// (fixtures in `Fixtures/written/`), so that a change in how Bundles are built cannot change
/// a delivered document unnoticed. Set `WEICHE_WRITE_FIXTURES=1` to write them anew after a
/// deliberate change of the format, and review the difference.
@Suite("FHIR R4 adapter: written bytes")
struct FHIRWrittenBytesTests {
    static let messageID = UUID(uuidString: "01937a4e-58c0-7d2a-9b3c-4d5e6f708192")!
    static let createdAt = Date(timeIntervalSince1970: 1_767_600_000.123_456)

    static func referral(_ type: String, from sender: String, to recipient: String, configure: (inout Referral) -> Void = { _ in }) -> Referral {
        let spec = ReferralCatalogue.spec(for: ReferralType(type)!)!
        var referral = ReferralSamples.referral(
            spec, from: AgencyID(sender)!, to: AgencyID(recipient)!, senderMessageID: "MA-2026-000042", createdAt: createdAt,
            text: { "Wert \"\($0.count)\" \\ äöü ß ễ\t\u{1}" })
        referral.id = messageID
        referral.inReplyTo = "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
        configure(&referral)
        return referral
    }

    static let cases: [(String, Referral)] = [
        ("auftrag-full", referral("gesundheit.begutachtung-auftrag", from: "massarbeit", to: "gesundheitsamt") {
            $0.notice = "Zweckbindung nach § 78 SGB X"
            $0.recipients.append(AgencyID("psychosoziale-beratung")!)
        }),
        ("auftrag-minimal", referral("gesundheit.begutachtung-auftrag", from: "massarbeit", to: "gesundheitsamt") {
            $0.fields = $0.fields.filter { $0.name.hasPrefix("details.") && $0.name != "details.urgency" }
            $0.consentReference = nil
            $0.inReplyTo = "not a fhir id / with spaces"
        }),
        ("zuweisung-urgent", referral("beratung.zuweisung", from: "massarbeit", to: "psychosoziale-beratung") {
            $0.fields.removeAll { $0.name == "details.urgency" }
            $0.fields.append(ReferralField("details.urgency", .case, .text("urgent")))
            $0.inReplyTo = nil
        }),
        ("ergebnis-outputs", referral("gesundheit.begutachtung-ergebnis", from: "gesundheitsamt", to: "massarbeit") {
            $0.fields.append(ReferralField("details.count", .capacity, .integer(-12)))
            $0.fields.append(ReferralField("details.fit", .capacity, .boolean(false)))
            $0.fields.append(ReferralField("details.since", .capacity, .day("2025-12-31")))
            $0.fields.removeAll { $0.name.hasPrefix("caseworker.") }
        }),
    ]

    static let receipts: [(String, Receipt)] = [
        ("receipt-accepted", Receipt(reference: messageID.uuidString.lowercased(), from: AgencyID("gesundheitsamt")!,
                                     outcome: .accepted, issuedAt: createdAt)),
        ("receipt-rejected", Receipt(reference: messageID.uuidString.lowercased(), from: AgencyID("gesundheitsamt")!,
                                     senderMessageID: "GA-QUITT-0099", outcome: .rejected(code: "X-1", reason: "Grund mit \"Anführung\" & ß"),
                                     issuedAt: createdAt, referralSenderMessageID: "MA-2026-000042")),
    ]

    func check(_ name: String, _ bytes: [UInt8]) throws {
        let expected = try ReferralSamples.pinned(bytes, as: "\(name).json", besides: #filePath)
        #expect(bytes == expected, "\(name): written bytes differ from Fixtures/written/\(name).json")
    }

    @Test func referralBundlesAreWrittenByteForByteAsBefore() throws {
        for (name, referral) in Self.cases {
            try check(name, try FHIRAdapter().encode(referral).bytes)
        }
    }

    @Test func receiptBundlesAreWrittenByteForByteAsBefore() throws {
        for (name, receipt) in Self.receipts {
            try check(name, try FHIRAdapter().encode(receipt).bytes)
        }
    }
}
