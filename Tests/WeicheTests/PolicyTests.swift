import Foundation
import Testing
import Weiche
import WeicheCore

@Suite("Policy: routes, consent and minimisation, per recipient")
struct PolicyTests {
    private let policy = Policy(configuration: try! GatewayConfiguration.load(
        Array(ConfigurationTests.valid.utf8), knownAdapters: ConfigurationTests.adapters))

    private func referral(_ type: String, from: String, to: [String], consent: String? = nil, fields: [ReferralField]) -> Referral {
        Referral(
            senderMessageID: UUID().uuidString, type: ReferralType(type)!, sender: AgencyID(from)!,
            recipients: to.map { AgencyID($0)! }, createdAt: Date(), legalBasis: "as the sender wrote it",
            purpose: "as the sender wrote it", consentReference: consent, fields: fields)
    }

    private let healthFields = [
        ReferralField("person.familyName", .identity, .text("Muster")),
        ReferralField("person.phone", .contact, .text("0151 000000")),
        ReferralField("caseNumber", .case, .text("AZ-1")),
        ReferralField("details.reason", .health, .text("Diagnose")),
        ReferralField("details.employer", .employment, .text("Firma")),
    ]

    @Test func allowedTransferIsMinimisedAndCarriesTheRoutesBasis() throws {
        let decisions = policy.evaluate(referral(
            "gesundheit.begutachtung-auftrag", from: "massarbeit", to: ["gesundheitsamt"], consent: "EW-1", fields: healthFields))
        guard case .allowed(let allowed) = try #require(decisions.first) else {
            Issue.record("expected the transfer to be allowed: \(decisions)")
            return
        }
        #expect(allowed.referral.fields.map(\.name) == ["person.familyName", "person.phone", "caseNumber", "details.reason"])
        #expect(allowed.minimisation.removed == [.init(field: "details.employer", category: .employment)])
        #expect(allowed.referral.legalBasis == "§ 50 Abs. 1 SGB II; Art. 9 Abs. 2 DSGVO")
        #expect(allowed.referral.recipients == [AgencyID("gesundheitsamt")!])
    }

    @Test func theRoutesNoticeTravelsAndASendersOwnIsReplaced() throws {
        var counselling = referral(
            "beratung.zuweisung", from: "massarbeit", to: ["psychosoziale-beratung"], consent: "EW-2", fields: healthFields)
        counselling.notice = "a notice the sender made up"
        guard case .allowed(let allowed) = policy.evaluate(counselling, for: AgencyID("psychosoziale-beratung")!) else {
            Issue.record("expected the referral to be allowed")
            return
        }
        #expect(allowed.referral.notice == "Zweckbindung nach § 78 SGB X")
        var childcare = referral("kinderbetreuung.anfrage", from: "massarbeit", to: ["jugendamt"], fields: [])
        childcare.notice = "a notice the sender made up"
        guard case .allowed(let plain) = policy.evaluate(childcare, for: AgencyID("jugendamt")!) else {
            Issue.record("expected the referral to be allowed")
            return
        }
        #expect(plain.referral.notice == nil, "a route without a notice sends none")
    }

    @Test func diagnosesNeverReachTheJobCentre() throws {
        let result = referral(
            "gesundheit.begutachtung-ergebnis", from: "gesundheitsamt", to: ["massarbeit"],
            fields: [
                ReferralField("person.familyName", .identity, .text("Muster")),
                ReferralField("details.hoursPerDay", .capacity, .text(">=6")),
                ReferralField("details.diagnosis", .health, .text("F32.1")),
                ReferralField("details.reasonCode", .health, .text("M54.5")),
            ])
        guard case .allowed(let allowed) = policy.evaluate(result, for: AgencyID("massarbeit")!) else {
            Issue.record("expected the result to be allowed")
            return
        }
        #expect(!allowed.referral.categories.contains(.health))
        #expect(allowed.minimisation.removed.map(\.field) == ["details.diagnosis", "details.reasonCode"])
    }

    @Test func noRouteIsRefusedWithAReason() {
        let decisions = policy.evaluate(referral(
            "gesundheit.begutachtung-auftrag", from: "massarbeit", to: ["auslaenderbehoerde"], consent: "EW-1", fields: healthFields))
        guard case .refused(let refusal) = decisions.first else {
            Issue.record("health data to the Ausländerbehörde must be refused")
            return
        }
        #expect(refusal.code == .noRoute)
        #expect(refusal.reason.contains("auslaenderbehoerde"))
        #expect(!refusal.reason.contains("Muster"), "no personal data in reasons")
    }

    @Test(arguments: [nil, "", "   ", "\t\u{A0}", "\n"])
    func missingConsentIsRefused(_ consent: String?) {
        let decisions = policy.evaluate(referral(
            "gesundheit.begutachtung-auftrag", from: "massarbeit", to: ["gesundheitsamt"], consent: consent, fields: healthFields))
        guard case .refused(let refusal) = decisions.first else {
            Issue.record("a health referral without consent must be refused")
            return
        }
        #expect(refusal.code == .consentMissing)
    }

    @Test func eachRecipientIsDecidedOnItsOwn() {
        let decisions = policy.evaluate(referral(
            "kinderbetreuung.anfrage", from: "massarbeit", to: ["jugendamt", "gesundheitsamt", "jugendamt"],
            fields: [ReferralField("details.children", .family, .list([.integer(3)]))]))
        #expect(decisions.count == 2, "duplicates are decided once")
        guard case .allowed = decisions[0], case .refused(let refusal) = decisions[1] else {
            Issue.record("expected allowed then refused: \(decisions)")
            return
        }
        #expect(refusal.recipient == AgencyID("gesundheitsamt"))
    }

    @Test func noRecipientIsRefused() {
        let decisions = policy.evaluate(referral("kinderbetreuung.anfrage", from: "massarbeit", to: [], fields: []))
        guard decisions.count == 1, case .refused(let refusal) = decisions[0] else {
            Issue.record("expected one refusal: \(decisions)")
            return
        }
        #expect(refusal.code == .noRecipient)
        #expect(refusal.recipient == nil)
    }
}

@Suite("Backoff with full jitter")
struct BackoffTests {
    private let backoff = Backoff(policy: .init(base: .seconds(30), cap: .seconds(3600), maxAttempts: 5))

    @Test func ceilingDoublesUpToTheCap() {
        #expect((1...9).map { backoff.ceiling(afterAttempt: $0) }
            == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600].map { Duration.seconds($0) })
        #expect(backoff.ceiling(afterAttempt: 10_000) == .seconds(3600), "no overflow on huge attempt numbers")
    }

    @Test func delaysStayWithinTheJitterBoundsAndVary() {
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...8 {
            let delays = (0..<200).map { _ in backoff.delay(afterAttempt: attempt, using: &generator) }
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= backoff.ceiling(afterAttempt: attempt) })
            #expect(Set(delays).count > 100, "full jitter spreads the delays")
        }
    }

    @Test func maxAttemptsEndsRetrying() {
        #expect(backoff.allowsAnotherAttempt(after: 4))
        #expect(!backoff.allowsAnotherAttempt(after: 5))
    }
}
