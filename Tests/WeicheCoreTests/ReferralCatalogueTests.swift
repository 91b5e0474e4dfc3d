import Foundation
import Testing
@testable import WeicheCore

@Suite("The referral type catalogue")
struct ReferralCatalogueTests {
    private func referral(_ type: String, _ fields: [ReferralField]) -> Referral {
        Referral(
            senderMessageID: "x", type: ReferralType(type)!, sender: AgencyID("massarbeit")!, recipients: [AgencyID("jugendamt")!],
            createdAt: Date(), legalBasis: "b", purpose: "p", fields: fields)
    }

    private let person = [
        ReferralField("person.familyName", .identity, .text("Öztürk")),
        ReferralField("person.givenName", .identity, .text("Ayşe")),
        ReferralField("person.birthDate", .identity, .day("1990-02-28")),
    ]

    @Test func everyDomainTypeIsCatalogued() {
        let names = Set(ReferralCatalogue.types.map(\.type.rawValue))
        #expect(names == [
            "kinderbetreuung.anfrage", "kinderbetreuung.ergebnis", "aufenthalt.auskunft-anfrage", "aufenthalt.auskunft",
            "integrationskurs.verpflichtung", "gesundheit.begutachtung-auftrag", "gesundheit.begutachtung-ergebnis",
            "beratung.zuweisung", "uebergang.jugendberufshilfe",
        ])
        for spec in ReferralCatalogue.types where spec.answers != nil {
            #expect(ReferralCatalogue.spec(for: spec.answers!) != nil, "\(spec.type) answers a catalogued type")
        }
    }

    @Test func theHealthResultKeepsDiagnosesInTheHealthCategory() {
        let spec = ReferralCatalogue.spec(for: ReferralType("gesundheit.begutachtung-ergebnis")!)!
        #expect(spec.details.filter { $0.category == .capacity }.map(\.name) == ["details.hoursPerDay", "details.restrictions", "details.expectedDuration"])
        #expect(spec.details.filter { $0.category == .health }.map(\.name) == ["details.diagnoses", "details.findings"])
    }

    @Test func aCompleteReferralHasNoProblems() {
        let request = referral("kinderbetreuung.anfrage", person + [
            ReferralField("details.childrenAges", .family, .list([.integer(2), .integer(5)])),
            ReferralField("details.hoursPerWeek", .family, .integer(30)),
            ReferralField("details.startDate", .family, .day("2026-08-01")),
        ])
        #expect(ReferralCatalogue.problems(in: request).isEmpty)
    }

    @Test func problemsNameTheFieldAndNeverTheValue() {
        let broken = referral("kinderbetreuung.anfrage", person + [
            ReferralField("details.childrenAges", .family, .list([.text("zwei")])),
            ReferralField("details.hoursPerWeek", .health, .integer(30)),
            ReferralField("details.startDate", .family, .day("2026-02-30")),
            ReferralField("details.shoeSize", .family, .integer(42)),
            ReferralField("person.familyName", .identity, .text("again")),
        ])
        let problems = ReferralCatalogue.problems(in: broken).map(\.description)
        #expect(problems.contains("field details.childrenAges: must be a list of whole numbers"))
        #expect(problems.contains("field details.hoursPerWeek: belongs to category family, not health"))
        #expect(problems.contains("field details.startDate: not a date (yyyy-MM-dd)"))
        #expect(problems.contains("field details.shoeSize: not a field of kinderbetreuung.anfrage"))
        #expect(problems.contains("field person.familyName: appears twice"))
        #expect(!problems.joined().contains("zwei") && !problems.joined().contains("Öztürk"))

        let missing = ReferralCatalogue.problems(in: referral("aufenthalt.auskunft", person)).map(\.description)
        #expect(missing == [
            "field details.residenceTitle: is required for aufenthalt.auskunft",
            "field details.workPermitted: is required for aufenthalt.auskunft",
        ])
        let choice = referral("aufenthalt.auskunft", person + [
            ReferralField("details.residenceTitle", .residence, .text("§ 25 Abs. 2 AufenthG")),
            ReferralField("details.workPermitted", .residence, .text("maybe")),
        ])
        #expect(ReferralCatalogue.problems(in: choice).map(\.description) == ["field details.workPermitted: must be one of: yes, no, with-conditions"])
        #expect(ReferralCatalogue.problems(in: referral("unknown.type", [])).map(\.description) == ["field type: unknown referral type 'unknown.type'"])
    }

    /// The check walks the catalogue once for fields in catalogue order and compares names
    /// otherwise; both give the same problems in the same order, whatever the fields are.
    @Test func theCatalogueOrderCheckAgreesWithTheGeneralOne() {
        var generator = SystemRandomNumberGenerator()
        var walked = 0
        for _ in 0..<3_000 {
            let spec = ReferralCatalogue.types.randomElement(using: &generator)!
            var fields = spec.fields.filter { _ in Int.random(in: 0..<4, using: &generator) > 0 }.map { known -> ReferralField in
                let value: FieldValue = [.text(""), .text("ja"), .text("yes"), .integer(3), .boolean(true), .day("2026-02-30"), .day("2026-02-28"),
                                         .list([.integer(1)]), .list([.text("x")])].randomElement(using: &generator)!
                let category = Int.random(in: 0..<8, using: &generator) == 0 ? DataCategory.allCases.randomElement(using: &generator)! : known.category
                return ReferralField(known.name, category, value)
            }
            switch Int.random(in: 0..<6, using: &generator) {
            case 0: fields.shuffle(using: &generator)
            case 1: if let some = fields.randomElement(using: &generator) { fields.append(some) }
            case 2: fields.insert(ReferralField("details.unknown", .case, .text("x")), at: Int.random(in: 0...fields.count, using: &generator))
            default: break
            }
            let referral = referral(spec.type.rawValue, fields)
            let general = ReferralCatalogue.problemsByName(referral, spec).map(\.description)
            #expect(ReferralCatalogue.problems(in: referral).map(\.description) == general, "\(fields.map(\.name))")
            if let ordered = ReferralCatalogue.problemsInCatalogueOrder(referral, spec) {
                walked += 1
                #expect(ordered.map(\.description) == general)
            }
        }
        #expect(walked > 1_000, "most referrals take the catalogue-order path")
    }

    @Test(arguments: [("2024-02-29", true), ("2023-02-29", false), ("1900-02-29", false), ("2000-02-29", true), ("2026-12-31", true),
                      ("2026-13-01", false), ("2026-1-01", false), ("26-01-01", false), ("2026-01-01T00:00", false), ("", false), ("２０２６-01-01", false), ("2026-01-00", false), ("2026-00-10", false), ("0999-01-01", false),
                      ("2026+01-01", false), ("2026-01-0a", false), ("2024-02-29", true), ("2100-02-29", false), ("2000-02-29", true)])
    func calendarDays(_ text: String, _ valid: Bool) {
        #expect(ReferralCatalogue.isDay(text) == valid)
    }

    @Test func theDocumentationListsEveryFieldWithItsCategory() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("Docs/formats/catalogue.md"), encoding: .utf8)
        for spec in ReferralCatalogue.types {
            #expect(document.contains("## `\(spec.type)`"), "\(spec.type) has a section")
        }
        for field in ReferralCatalogue.subjectFields + ReferralCatalogue.types.flatMap(\.details) {
            #expect(document.contains("| `\(field.name)` | \(field.category.rawValue) |"), "\(field.name) is documented as \(field.category.rawValue)")
        }
    }
}
