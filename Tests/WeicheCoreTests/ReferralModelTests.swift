import Foundation
import Testing
@testable import WeicheCore

@Suite("The canonical referral model")
struct ReferralModelTests {
    private func sample() -> Referral {
        Referral(
            senderMessageID: "5f0e4c1e-0000-4000-8000-000000000001",
            type: ReferralType("gesundheit.begutachtung-auftrag")!,
            sender: AgencyID("massarbeit")!,
            recipients: [AgencyID("gesundheitsamt")!],
            createdAt: Date(timeIntervalSince1970: 1_767_600_000),
            legalBasis: "§ 50 Abs. 1 SGB II",
            purpose: "Begutachtung der Erwerbsfähigkeit",
            consentReference: "EW-2026-0042",
            fields: [
                ReferralField("person.familyName", .identity, .text("Muster")),
                ReferralField("person.birthDate", .identity, .day("1990-04-01")),
                ReferralField("person.address", .contact, .text("Hauptstraße 1, 12345 Musterstadt")),
                ReferralField("caseNumber", .case, .text("AZ-1")),
                ReferralField("details.reason", .health, .text("Rückenleiden")),
                ReferralField("details.hoursPerDay", .capacity, .text("3-6")),
            ])
    }

    @Test func minimisationRemovesEveryFieldOutsideTheAllowedCategoriesAndSaysWhich() {
        let (kept, minimisation) = sample().minimised(to: [.identity, .case, .capacity])
        #expect(kept.fields.map(\.name) == ["person.familyName", "person.birthDate", "caseNumber", "details.hoursPerDay"])
        #expect(minimisation.removed == [
            .init(field: "person.address", category: .contact),
            .init(field: "details.reason", category: .health),
        ])
        #expect(kept.categories == [.identity, .case, .capacity])
        // The envelope is untouched.
        #expect(kept.legalBasis == sample().legalBasis)
        #expect(kept.consentReference == "EW-2026-0042")
    }

    @Test func minimisationWithEverythingAllowedRemovesNothing() {
        let (kept, minimisation) = sample().minimised(to: Set(DataCategory.allCases))
        #expect(kept == sample())
        #expect(minimisation.isEmpty)
    }

    /// Every subset of categories keeps exactly the fields of its categories, in their order.
    @Test func minimisationKeepsExactlyTheAllowedCategories() {
        let all = DataCategory.allCases
        #expect(all.map(\.ordinal) == Array(all.indices), "categories are numbered in declaration order, for sorting and masks")
        #expect(all.count <= 16, "a category mask has 16 bits")
        var referral = sample()
        referral.fields = all.flatMap { category in (0..<2).map { ReferralField("\(category.rawValue).\($0)", category, .text("x")) } }
        for subset in 0..<(1 << all.count) {
            let allowed = Set(all.indices.filter { subset & (1 << $0) != 0 }.map { all[$0] })
            let (kept, minimisation) = referral.minimised(to: allowed)
            #expect(kept.fields == referral.fields.filter { allowed.contains($0.category) })
            #expect(minimisation.removed.map(\.field) == referral.fields.filter { !allowed.contains($0.category) }.map(\.name))
        }
    }

    @Test func removalRecordsHoldNoValues() throws {
        let (_, minimisation) = sample().minimised(to: [.identity])
        let json = String(decoding: try JSONEncoder().encode(minimisation), as: UTF8.self)
        #expect(!json.contains("Rückenleiden"))
        #expect(!json.contains("Hauptstraße"))
        #expect(json.contains("details.reason"))
    }

    @Test func onlyHealthAndYouthWelfareNeedConsent() {
        #expect(DataCategory.allCases.filter(\.needsConsent) == [.health, .youthWelfare])
        #expect(DataCategory(rawValue: "youth-welfare") == .youthWelfare)
        #expect(DataCategory(rawValue: "case") == .case)
    }

    @Test(arguments: ["massarbeit", "gesundheitsamt", "psychosoziale-beratung", "a1"])
    func wellFormedAgencyIDs(_ text: String) {
        #expect(AgencyID(text)?.rawValue == text)
    }

    @Test(arguments: ["", "MassArbeit", "maßarbeit", "1abc", "-abc", "a b", "a/b", "a.b", "e\u{301}", "a\u{0}", String(repeating: "a", count: 65)])
    func malformedAgencyIDs(_ text: String) {
        #expect(AgencyID(text) == nil)
    }

    @Test func referralTypes() {
        #expect(ReferralType("kinderbetreuung.anfrage") != nil)
        #expect(ReferralType("aufenthalt.auskunft-anfrage") != nil)
        #expect(ReferralType("kinderbetreuung.") == nil)
        #expect(ReferralType("a..b") == nil)
        #expect(ReferralType("Kinderbetreuung.Anfrage") == nil)
    }

    @Test func referralSurvivesJSONRoundTrip() throws {
        let data = try JSONEncoder().encode(sample())
        #expect(try JSONDecoder().decode(Referral.self, from: data) == sample())
    }

    @Test func fieldValuesHaveAPlainJSONForm() throws {
        let value = FieldValue.list([.text("a"), .integer(2), .boolean(true), .day("1990-04-01")])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(value), as: UTF8.self)
        #expect(json == #"{"list":[{"text":"a"},{"integer":2},{"boolean":true},{"day":"1990-04-01"}]}"#)
        #expect(try JSONDecoder().decode(FieldValue.self, from: Data(json.utf8)) == value)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FieldValue.self, from: Data(#"{"text":"a","integer":1}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FieldValue.self, from: Data(#"{}"#.utf8)) }
    }

    @Test func invalidAgencyIDInJSONIsADecodingError() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([AgencyID].self, from: Data(#"["Not Valid"]"#.utf8)) }
    }

    @Test func rejectionDescriptionNamesPositionAndField() {
        #expect(Rejection(position: "row 7", field: "Geburtsdatum", reason: "not a date (dd.MM.yyyy)").description
            == "row 7, field Geburtsdatum: not a date (dd.MM.yyyy)")
        #expect(Rejection(reason: "not valid Windows-1252 text").description == "not valid Windows-1252 text")
    }
}
