import Foundation
import Testing
import WeicheCore
import WeichePostgres
import WeicheTesting
@testable import Weiche

@Suite("The stored form of a referral, written and read without Foundation's coders")
struct ReferralJSONTests {
    static func randomText(_ generator: inout some RandomNumberGenerator) -> String {
        let pieces = ["a", "Z", "ß", "é", "日", "😀", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", " ", "{", "]", ":", ","]
        return (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    static func randomValue(_ generator: inout some RandomNumberGenerator, depth: Int = 0) -> FieldValue {
        switch Int.random(in: 0..<(depth < 2 ? 5 : 4), using: &generator) {
        case 0: .text(randomText(&generator))
        case 1: .integer([0, 1, -1, 42, Int(Int32.max), -9_007_199_254_740_991].randomElement(using: &generator)!)
        case 2: .boolean(Bool.random(using: &generator))
        case 3: .day("2019-0\(Int.random(in: 1...9, using: &generator))-15")
        default: .list((0..<Int.random(in: 0...3, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        }
    }

    static func randomReferral(_ generator: inout some RandomNumberGenerator) -> Referral {
        Referral(
            id: Bool.random(using: &generator) ? UUID() : nil, senderMessageID: randomText(&generator),
            type: ReferralType("kinderbetreuung.anfrage")!, sender: AgencyID("massarbeit")!,
            recipients: [AgencyID("jugendamt")!, AgencyID("gesundheitsamt")!].shuffled(using: &generator),
            createdAt: Date(timeIntervalSince1970: Double.random(in: -2_000_000_000...4_000_000_000, using: &generator)),
            legalBasis: randomText(&generator), purpose: randomText(&generator),
            consentReference: Bool.random(using: &generator) ? randomText(&generator) : nil,
            inReplyTo: Bool.random(using: &generator) ? randomText(&generator) : nil,
            notice: Bool.random(using: &generator) ? randomText(&generator) : nil,
            fields: (0..<Int.random(in: 0...8, using: &generator)).map { _ in
                ReferralField(randomText(&generator), DataCategory.allCases.randomElement(using: &generator)!, randomValue(&generator))
            })
    }

    @Test func writesTheBytesJSONEncoderWritesAndReadsThemBack() async throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2_000 {
            if round % 50 == 0 { await Task.yield() }  // a long loop: let other tests' tasks in
            let referral = Self.randomReferral(&generator)
            let ours = ReferralJSON.encode(referral)
            let foundation = Array(try PostgresJSONCoding.encoder().encode(referral))
            #expect(ours == foundation, "\(String(decoding: ours, as: UTF8.self))\n\(String(decoding: foundation, as: UTF8.self))")
            var withoutID = referral
            withoutID.id = nil
            #expect(ReferralJSON.encode(referral, includingID: false) == Array(try PostgresJSONCoding.encoder().encode(withoutID)))
            let id = UUID()
            var withNewID = referral
            withNewID.id = id
            let both = ReferralJSON.encodeStoredAndCanonical(referral, id: id)
            #expect(both.stored == ReferralJSON.encode(withNewID) && both.canonical == ReferralJSON.encode(referral, includingID: false))
            // A delivery's content is made from the stored form and its terms (Decision 0012):
            // from the bytes read back, it is what the policy made from the referral in memory.
            let terms = Policy.Terms(
                categories: Set(DataCategory.allCases.filter { _ in Bool.random(using: &generator) }),
                legalBasis: Self.randomText(&generator), purpose: Self.randomText(&generator),
                notice: Bool.random(using: &generator) ? Self.randomText(&generator) : nil)
            let recipient = AgencyID("jugendamt")!
            let made = Policy.content(of: try ReferralJSON.decode(both.stored), for: recipient, under: terms).0
            #expect(made == Policy.content(of: ReferralJSON.asStored(withNewID), for: recipient, under: terms).0)
            #expect(made.fields.allSatisfy { terms.categories.contains($0.category) } && made.recipients == [recipient])
            let decoded = try ReferralJSON.decode(ours)
            #expect(ReferralJSON.referral(try JSONValue(parsing: ours)) != nil, "the fast path reads what it writes")
            #expect(decoded.id == referral.id && decoded.fields == referral.fields && decoded.notice == referral.notice)
            #expect(PostgresJSONCoding.format(decoded.createdAt) == PostgresJSONCoding.format(referral.createdAt))
        }
    }

    /// What the pipeline hands on from memory instead of reading back (``ReferralJSON/asStored(_:)``).
    @Test func readingBackWhatWasWrittenGivesTheReferralAsStored() async throws {
        var generator = SystemRandomNumberGenerator()
        for index in 0..<2_000 {
            if index % 50 == 0 { await Task.yield() }  // a long loop: let other tests' tasks in
            var referral = Self.randomReferral(&generator)
            if index % 10 == 0 { referral.fields.append(ReferralField("big", .case, .integer(Int.min))) }
            let stored = ReferralJSON.asStored(referral)
            #expect(try ReferralJSON.decode(ReferralJSON.encode(referral)) == stored)
            #expect(ReferralJSON.asStored(stored) == stored)
        }
    }

    @Test func readsWhatPostgreSQLPrintsForJSONB() async throws {
        try await TestPostgres.withSchema(migrated: false) { pool async throws in
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<50 {
                // PostgreSQL's jsonb holds no U+0000 (the adapters refuse it; see the gateway's tests).
                var referral = Self.randomReferral(&generator)
                while ReferralJSON.encode(referral).contains(0x5C) && String(decoding: ReferralJSON.encode(referral), as: UTF8.self).contains("\\u0000") {
                    referral = Self.randomReferral(&generator)
                }
                let text = try await pool.query("SELECT \(PostgresRawJSON(ReferralJSON.encode(referral)))::text").single().decode(String.self, at: 0)
                #expect(text.contains(": "), "jsonb's own layout")
                let fast = ReferralJSON.referral(try JSONValue(parsing: Array(text.utf8)))
                #expect(fast.map { ReferralJSON.encode($0) } == ReferralJSON.encode(referral))
            }
        }
    }

    @Test func leavesWhatItCannotReadExactlyToJSONDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        var referral = Self.randomReferral(&generator)
        referral.fields = [ReferralField("big", .case, .integer(Int.max))]
        let bytes = Array(try PostgresJSONCoding.encoder().encode(referral))
        #expect(ReferralJSON.referral(try JSONValue(parsing: bytes)) == nil)
        #expect(try ReferralJSON.decode(bytes).fields == referral.fields)
        #expect(throws: (any Error).self) { try ReferralJSON.decode(Array(#"{"type": 1}"#.utf8)) }
    }

    @Test func formatsAndParsesTimestampsLikeTheFormatter() throws {
        var generator = SystemRandomNumberGenerator()
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: false)
        for _ in 0..<5_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -60_000_000_000...250_000_000_000, using: &generator).rounded() / 1)
            let text = PostgresJSONCoding.format(date)
            #expect(text.count == 27 && text.hasSuffix("Z"))
            #expect(formatter.format(date) == String(text.prefix(19)) + "Z")
            let parsed = try #require(PostgresJSONCoding.parse(text))
            #expect(PostgresJSONCoding.format(parsed) == text)
        }
        #expect(PostgresJSONCoding.parse("2026-01-05T08:00:00Z") != nil, "other ISO 8601 forms still read")
    }
}
