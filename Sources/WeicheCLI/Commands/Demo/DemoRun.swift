import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// One referral the demo follows, by its sender's message id.
struct DemoStory {
    var title: String
    var sender: String
    var senderMessageID: String
}

/// Plays the demo's morning: referrals, a recipient coming back online, answers and receipts.
struct DemoRun {
    let context: CommandContext
    let gateway: Gateway
    let pool: PostgresConnectionPool
    let site: DemoSite

    typealias ID = DemoDocuments.ID

    static let stories = [
        DemoStory(title: "Childcare place, so that a mother can start work", sender: "massarbeit", senderMessageID: ID.childcare),
        DemoStory(title: "Residence title and permission to work", sender: "massarbeit", senderMessageID: ID.residenceQuestion),
        DemoStory(title: "Medical assessment of the capacity to work", sender: "massarbeit", senderMessageID: ID.assessment),
        DemoStory(title: "Psychosocial counselling (the recipient's share is offline at first)", sender: "massarbeit", senderMessageID: ID.counselling),
        DemoStory(title: "Childcare request for a name the Jugendamt's system cannot store", sender: "massarbeit", senderMessageID: ID.childcareUnencodable),
        DemoStory(title: "Health data addressed to the Ausländerbehörde", sender: "massarbeit", senderMessageID: ID.assessmentToWrongAgency),
        DemoStory(title: "Counselling referral without a consent reference", sender: "massarbeit", senderMessageID: ID.counsellingWithoutConsent),
        DemoStory(title: "Integration course obligation, notified ex officio", sender: "auslaenderbehoerde", senderMessageID: ID.integrationCourse),
        DemoStory(title: "A young person's transition from school into training", sender: "jugendamt", senderMessageID: ID.transition),
    ]

    func play() async throws -> [DemoStory] {
        let now = Date()
        context.print("1. The agencies hand over their morning's work")
        try site.drop(DemoDocuments.massarbeitReferrals(at: now), named: "ma-export-0800.json", by: "massarbeit")
        try site.drop(DemoDocuments.massarbeitRefused(at: now), named: "ma-export-0815.json", by: "massarbeit")
        try site.drop(DemoDocuments.integrationCourse(at: now), named: "abh-mitteilung-0932.xml", by: "auslaenderbehoerde")
        try site.drop(try windows1252(DemoDocuments.transition(at: now)), named: "ja-export-0418.csv", by: "jugendamt")
        var report = Gateway.Report()
        while try await gateway.ingestAvailable(limit: 100, into: &report) > 0 {}
        _ = try await gateway.deliverDue(limit: 100, into: &report)
        context.print("   read \(report.itemsRead) files: \(report.referralsStored) referrals stored, \(report.rejections) refused or rejected;"
            + " \(report.delivered) delivered, \(report.retriesScheduled) to retry, \(report.failed) failed")

        context.print("2. The counselling service's share comes back online; Weiche retries")
        try FileManager.default.createDirectory(at: site.outbound("psychosoziale-beratung"), withIntermediateDirectories: true)
        report = try await settle()
        context.print("   \(report.delivered) delivered, \(report.failed) failed")

        context.print("3. The agencies answer, accept and reject")
        let later = now.addingTimeInterval(90 * 60)
        let childcare = try await messageID(ID.childcare, from: "massarbeit")
        let residence = try await messageID(ID.residenceQuestion, from: "massarbeit")
        let assessment = try await messageID(ID.assessment, from: "massarbeit")
        let counselling = try await messageID(ID.counselling, from: "massarbeit")
        try site.drop(try windows1252(DemoDocuments.childcareAnswer(to: childcare, at: later)), named: "ja-export-0420.csv", by: "jugendamt")
        try site.drop(DemoDocuments.residenceReceipt(for: residence, at: later), named: "abh-quittung-0881.xml", by: "auslaenderbehoerde")
        try site.drop(DemoDocuments.residenceAnswer(to: residence, at: later), named: "abh-auskunft-0881.xml", by: "auslaenderbehoerde")
        try site.drop(DemoDocuments.fhirReceipt(for: assessment, from: "gesundheitsamt", rejection: nil, at: later),
                      named: "ga-eingang-0417.json", by: "gesundheitsamt")
        try site.drop(DemoDocuments.assessmentResult(to: assessment, at: later), named: "ga-ergebnis-0417.json", by: "gesundheitsamt")
        try site.drop(DemoDocuments.fhirReceipt(
            for: counselling, from: "psychosoziale-beratung",
            rejection: (code: "KEINE-KAPAZITAET", reason: "Derzeit keine freien Plätze; bitte in vier Wochen erneut zuweisen"), at: later),
                      named: "psb-antwort-0902.json", by: "psychosoziale-beratung")
        report = try await settle()
        context.print("   read \(report.itemsRead) files: \(report.referralsStored) answers stored; \(report.delivered) delivered\n")
        return Self.stories
    }

    /// Runs the gateway until nothing is waiting any more (a retry is due within a second or two).
    func settle() async throws -> Gateway.Report {
        var total = Gateway.Report()
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let report = try await gateway.runOnce()
            total.add(report)
            let open = try await pool.query("SELECT count(*)::bigint FROM delivery WHERE state IN ('pending', 'delivering')")
            if try open[0].decode(Int.self, at: 0) == 0 { return total }
            guard ContinuousClock.now < deadline else {
                throw WeicheError(.system, "the demo's deliveries did not settle within 30 seconds; run 'weiche status' to see why")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func messageID(_ senderMessageID: String, from sender: String) async throws -> UUID {
        guard let id = try await gateway.store.messageID(sender: sender, senderMessageID: senderMessageID) else {
            throw WeicheError(.notFound, "the demo's referral \(senderMessageID) from \(sender) was not stored; see the .error.txt files in \(site.root.path)")
        }
        return id
    }

    /// The Jugendamt's legacy system writes Windows-1252.
    func windows1252(_ text: String) throws -> [UInt8] {
        guard let data = text.data(using: .windowsCP1252) else {
            throw WeicheError(.system, "the demo's Jugendamt file cannot be written in Windows-1252")
        }
        return [UInt8](data)
    }
}
