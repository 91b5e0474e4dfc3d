import Foundation
import Testing
import Weiche
import WeicheCore
import WeichePostgres
import WeicheTesting
import AdapterWeicheJSON

@Suite("The gateway end to end over directory channels")
struct GatewayEndToEndTests {
    /// Two agencies speaking the test adapter, each with an outbox (to Weiche) and an inbox.
    struct Setup {
        let root: URL
        let configuration: GatewayConfiguration

        init(recipientAdapter: String = "test-lines") throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-e2e-\(UUID().uuidString)")
            for agency in ["massarbeit", "jugendamt"] {
                for box in ["out", "in"] {
                    try FileManager.default.createDirectory(at: root.appendingPathComponent("\(agency)/\(box)"), withIntermediateDirectories: true)
                }
            }
            let json = """
                {
                  "agencies": [
                    { "id": "massarbeit", "name": "MaßArbeit", "adapter": "weiche-json",
                      "inbound": { "kind": "directory", "path": "\(root.path)/massarbeit/out" },
                      "outbound": { "kind": "directory", "path": "\(root.path)/massarbeit/in" } },
                    { "id": "jugendamt", "name": "Jugendamt", "adapter": "\(recipientAdapter)",
                      "inbound": { "kind": "directory", "path": "\(root.path)/jugendamt/out" },
                      "outbound": { "kind": "directory", "path": "\(root.path)/jugendamt/in" } }
                  ],
                  "routes": [
                    { "from": "massarbeit", "type": "kinderbetreuung.anfrage", "to": "jugendamt",
                      "legalBasis": "§ 69 Abs. 1 Nr. 1 SGB X i.V.m. § 16a Nr. 1 SGB II", "purpose": "Kinderbetreuung",
                      "categories": ["identity", "contact", "case", "family"] }
                  ]
                }
                """
            configuration = try GatewayConfiguration.load(Array(json.utf8), knownAdapters: [WeicheJSONAdapter.name, TestLinesAdapter.name])
        }

        func gateway(store: PipelineStore) -> Gateway {
            Gateway(configuration: configuration, store: store, adapters: [WeicheJSONAdapter(), TestLinesAdapter()], worker: "test")
        }

        /// Writes a file as agencies do: under a temporary name, then renamed into place.
        func drop(_ referrals: [Referral], named name: String, from agency: String) throws {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let directory = root.appendingPathComponent("\(agency)/out")
            let temporary = directory.appendingPathComponent(name + ".part")
            try encoder.encode(referrals).write(to: temporary)
            try FileManager.default.moveItem(at: temporary, to: directory.appendingPathComponent(name))
        }

        func files(_ relative: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(relative).path).sorted()
        }
    }

    func referral(to recipients: [String], type: String = "kinderbetreuung.anfrage", consent: String? = nil) -> Referral {
        Referral(
            senderMessageID: UUID().uuidString, type: ReferralType(type)!, sender: AgencyID("massarbeit")!,
            recipients: recipients.map { AgencyID($0)! }, createdAt: Date(timeIntervalSince1970: 1_767_600_000),
            legalBasis: "§ 69 SGB X", purpose: "Kinderbetreuung", consentReference: consent,
            fields: [
                ReferralField("person.familyName", .identity, .text("Muster")),
                ReferralField("person.givenName", .identity, .text("Maria")),
                ReferralField("details.childrenAges", .family, .list([.integer(2), .integer(5)])),
                ReferralField("details.hoursNeeded", .family, .integer(30)),
                ReferralField("details.employer", .employment, .text("Bäckerei Korn")),
            ])
    }

    @Test func referralIsRoutedMinimisedAndDeliveredAtomically() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.root) }
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let gateway = setup.gateway(store: PipelineStore(pool: pool, clock: ManualClock()))
            let sent = referral(to: ["jugendamt"])
            try setup.drop([sent], named: "anfrage-1.json", from: "massarbeit")

            let report = try await gateway.runOnce()
            #expect(report.referralsStored == 1)
            #expect(report.delivered == 1)
            #expect(report.rejections == 0)

            // The sender's file was moved aside and will not be read again.
            #expect(try setup.files("massarbeit/out") == ["processed"])
            #expect(try setup.files("massarbeit/out/processed") == ["anfrage-1.json"])
            // Exactly one complete file, named by the Weiche message id, and no temporary file.
            let delivered = try setup.files("jugendamt/in")
            #expect(delivered.count == 1)
            let messageID = try await pool.query("SELECT id FROM message").single().decode(UUID.self, at: 0)
            #expect(delivered == ["\(messageID.uuidString.lowercased()).txt"], "in the recipient's own format")
            let bytes = try Data(contentsOf: setup.root.appendingPathComponent("jugendamt/in/\(delivered[0])"))
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("weiche-lines/1\n"), "translated from JSON into the recipient's line format")
            #expect(text.contains("Muster") && text.contains("details.childrenAges"))
            #expect(!text.contains("Bäckerei Korn"), "the employment field is outside the route's categories")
            #expect(!text.contains("details.employer"))
            #expect(text.contains("§ 69 Abs. 1 Nr. 1 SGB X i.V.m. § 16a Nr. 1 SGB II"), "the route's legal basis travels")

            let kinds = try await pool.query("SELECT kind FROM audit_log WHERE message_id = \(messageID) ORDER BY seq").map { try $0.decode(String.self, at: 0) }
            #expect(kinds == ["received", "routed", "minimised", "delivered"])
            let state = try await pool.query("SELECT state, attempts FROM delivery").single().decode((String, Int).self)
            #expect(state == ("delivered", 1))

            // Running again finds nothing new: no second delivery.
            let again = try await gateway.runOnce()
            #expect(again == Gateway.Report())
        }
    }

    @Test func refusedAndBrokenPartsAreReportedBesideTheSendersFile() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.root) }
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let gateway = setup.gateway(store: PipelineStore(pool: pool, clock: ManualClock()))
            let good = referral(to: ["jugendamt"])
            let unroutable = referral(to: ["jugendamt"], type: "gesundheit.begutachtung-auftrag", consent: "EW-1")
            try setup.drop([good, unroutable], named: "batch.json", from: "massarbeit")
            let directory = setup.root.appendingPathComponent("massarbeit/out")
            try Data("this is not JSON".utf8).write(to: directory.appendingPathComponent("garbage.json"))

            let report = try await gateway.runOnce()
            #expect(report.delivered == 1)
            #expect(report.rejections == 2)
            #expect(try setup.files("massarbeit/out/processed") == ["batch.json", "batch.json.error.txt"])
            #expect(try setup.files("massarbeit/out/rejected") == ["garbage.json", "garbage.json.error.txt"])
            let refusal = try String(contentsOf: directory.appendingPathComponent("processed/batch.json.error.txt"), encoding: .utf8)
            #expect(refusal.contains("message \(unroutable.senderMessageID)"))
            #expect(refusal.contains("no route allows gesundheit.begutachtung-auftrag from massarbeit to jugendamt"))
            #expect(!refusal.contains("Muster"))
            let refusedEvents = try await pool.query("SELECT count(*) FROM audit_log WHERE kind = 'refused'").single().decode(Int.self, at: 0)
            #expect(refusedEvents == 1)
        }
    }

    /// PostgreSQL cannot store U+0000 in text or jsonb: before, one such value failed the
    /// whole batch's transaction, every time the file was read again.
    @Test func aNULCharacterIsRefusedAloneAndTheRestOfTheBatchIsStored() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.root) }
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let gateway = setup.gateway(store: PipelineStore(pool: pool, clock: ManualClock()))
            var poisoned = referral(to: ["jugendamt"])
            poisoned.fields[1] = ReferralField("person.givenName", .identity, .text("Ma\u{0}ria"))
            try setup.drop([referral(to: ["jugendamt"]), poisoned, referral(to: ["jugendamt"])], named: "batch.json", from: "massarbeit")

            let report = try await gateway.runOnce()
            #expect(report.referralsStored == 2)
            #expect(report.delivered == 2)
            #expect(try setup.files("massarbeit/out/processed") == ["batch.json", "batch.json.error.txt"])
            let refusal = try String(contentsOf: setup.root.appendingPathComponent("massarbeit/out/processed/batch.json.error.txt"), encoding: .utf8)
            #expect(refusal.contains("message \(poisoned.senderMessageID)") && refusal.contains("person.givenName") && refusal.contains("U+0000"))
            #expect(!refusal.contains("ria"), "no value in the reason")
        }
    }

    @Test func aRecipientThatIsDownIsRetriedThenDelivered() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.root) }
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let clock = ManualClock()
            let store = PipelineStore(pool: pool, clock: clock)
            let inbox = setup.root.appendingPathComponent("jugendamt/in")
            try FileManager.default.removeItem(at: inbox)  // the recipient's share is not mounted
            let gateway = setup.gateway(store: store)
            try setup.drop([referral(to: ["jugendamt"])], named: "a.json", from: "massarbeit")

            let first = try await gateway.runOnce()
            #expect(first.retriesScheduled == 1)
            #expect(first.delivered == 0)
            try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
            clock.advance(by: 3600)
            let second = try await gateway.runOnce()
            #expect(second.delivered == 1)
            #expect(try setup.files("jugendamt/in").count == 1)
            let outcomes = try await pool.query("SELECT outcome FROM delivery_attempt ORDER BY attempt").map { try $0.decode(String.self, at: 0) }
            #expect(outcomes == ["retryable", "delivered"])
        }
    }

    /// A claiming submit (what `weiche serve` does with what it reads) stores the deliveries
    /// already claimed for its own worker: no other worker can take them while the lease runs,
    /// the gateway delivers them without a claim, and if it never does, another worker takes
    /// them over once the lease expires, with the expiry in the audit log.
    @Test func deliveriesClaimedAtIngestAreDeliveredOnceOrTakenOverAfterTheLease() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.root) }
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let clock = ManualClock()
            let store = PipelineStore(pool: pool, clock: clock)
            let gateway = setup.gateway(store: store)
            let other = Gateway(configuration: setup.configuration, store: store, adapters: [WeicheJSONAdapter(), TestLinesAdapter()], worker: "other")
            func submit(_ referrals: [Referral]) async throws -> [PipelineStore.Claim] {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                let items = try referrals.map { InboundItem(name: "r.json", bytes: Array(try encoder.encode([$0]))) }
                return try await gateway.submit(items, from: AgencyID("massarbeit")!, claiming: true).claims
            }

            let claims = try await submit([referral(to: ["jugendamt"]), referral(to: ["jugendamt"])])
            #expect(claims.count == 2 && claims.allSatisfy { $0.worker == "test" && $0.attempt == 1 && $0.content != nil })
            var report = Gateway.Report()
            #expect(try await other.deliverDue(limit: 10, into: &report) == 0, "claimed at ingest: not pending for anyone else")
            try await gateway.deliver(claims, into: &report)
            #expect(report.delivered == 2)
            #expect(try setup.files("jugendamt/in").count == 2)
            let states = try await pool.query("SELECT state, attempts FROM delivery").map { try $0.decode((String, Int).self) }
            #expect(states.count == 2 && states.allSatisfy { $0 == ("delivered", 1) })

            // Claimed, and the gateway stops before attempting: after the lease, another worker delivers.
            let abandoned = try await submit([referral(to: ["jugendamt"])])
            #expect(abandoned.count == 1)
            #expect(try await other.deliverDue(limit: 10, into: &report) == 0)
            clock.advance(by: gateway.lease.seconds + 1)
            #expect(try await other.deliverDue(limit: 10, into: &report) == 1)
            #expect(try setup.files("jugendamt/in").count == 3)
            let expiry = try await pool.query("""
                SELECT details ->> 'previousWorker' FROM audit_log WHERE kind = 'lease-expired' AND message_id = \(abandoned[0].messageID)
                """).single().decode(String.self, at: 0)
            #expect(expiry == "test")
            // The late gateway's report of its attempt no longer moves the delivery.
            let late = try await store.complete([abandoned[0]], outcomes: [.delivered], retry: { setup.configuration.retryPolicy(for: $0) })
            #expect(late == [.leaseLost])
        }
    }

    @Test func aRecipientsReceiptReturnsToTheSenderInItsFormat() async throws {
        let setup = try Setup(recipientAdapter: "weiche-json")
        defer { try? FileManager.default.removeItem(at: setup.root) }
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let gateway = setup.gateway(store: PipelineStore(pool: pool, clock: ManualClock()))
            try setup.drop([referral(to: ["jugendamt"])], named: "a.json", from: "massarbeit")
            _ = try await gateway.runOnce()
            let messageID = try await pool.query("SELECT id FROM message").single().decode(UUID.self, at: 0)

            // The Jugendamt's system rejects the referral and says why.
            let receipt = Receipt(reference: messageID.uuidString.lowercased(), from: AgencyID("jugendamt")!, outcome: .rejected(code: "KEIN-BEDARF", reason: "Kind bereits versorgt"),
                                  issuedAt: Date(timeIntervalSince1970: 1_767_700_000))
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            try encoder.encode(receipt).write(to: setup.root.appendingPathComponent("jugendamt/out/receipt.json"))
            // A receipt for a message the Jugendamt never received is refused.
            var stray = receipt
            stray.reference = UUID().uuidString
            try encoder.encode(stray).write(to: setup.root.appendingPathComponent("jugendamt/out/stray.json"))

            let report = try await gateway.runOnce()
            #expect(report.delivered == 1, "the receipt went to the sender")
            #expect(try setup.files("massarbeit/in") == ["receipt-\(messageID.uuidString.lowercased()).json"])
            // MaßArbeit never saw the Weiche id: the receipt names the referral by MaßArbeit's own message id too.
            let ownID = try await pool.query("SELECT sender_message_id FROM message").single().decode(String.self, at: 0)
            let delivered = try String(contentsOf: setup.root.appendingPathComponent("massarbeit/in/receipt-\(messageID.uuidString.lowercased()).json"), encoding: .utf8)
            #expect(delivered.contains(ownID))
            #expect(try setup.files("jugendamt/out/rejected") == ["stray.json", "stray.json.error.txt"])
            let event = try await pool.query("""
                SELECT agencies[cardinality(agencies)], details ->> 'outcome', details ->> 'code' FROM audit_log WHERE message_id = \(messageID) AND kind = 'receipt'
                """).single().decode((String, String, String).self)
            #expect(event == ("jugendamt", "rejected", "KEIN-BEDARF"))

            // The message's record shows the receipt, the answer's delivery to the sender, and no payload.
            let detail = try #require(try await PipelineStore(pool: pool).messageDetail(messageID))
            #expect(detail.events.map(\.kind) == ["received", "routed", "minimised", "delivered", "receipt", "delivered"])
            #expect(detail.deliveries.map { "\($0.kind) \($0.recipient) \($0.state)" } == ["referral jugendamt delivered", "receipt massarbeit delivered"])
            #expect(detail.events.first { $0.kind == "minimised" }?.details["removed"] == "details.employer (employment)")
            let json = String(decoding: try JSONEncoder().encode(detail), as: UTF8.self)
            #expect(!json.contains("Muster") && !json.contains("Bäckerei"), "metadata only")

            // The same receipt again changes nothing.
            try encoder.encode(receipt).write(to: setup.root.appendingPathComponent("jugendamt/out/receipt-again.json"))
            let again = try await gateway.runOnce()
            #expect(again.delivered == 0)
            #expect(try await pool.query("SELECT count(*) FROM audit_log WHERE kind = 'receipt'").single().decode(Int.self, at: 0) == 1)

            // Replayed by force, the referral goes out under today's route and the receipt as it was.
            // As `weiche replay` does: what existed when the replay began, and replays made after it.
            let clock = try #require(gateway.store.clock as? ManualClock)
            let began = clock.now()
            clock.advance(by: 1)
            let replay = Replay(gateway: gateway, actor: "person/test", reason: "test", force: true)
            let (progress, _) = try await replay.run(.init(messages: [messageID], createdBefore: began))
            #expect(progress.replayed == 2 && progress.delivered == 2, "\(progress)")
            let replays = try await pool.query(
                "SELECT kind, categories IS NULL, content IS NULL FROM delivery WHERE replay_of IS NOT NULL ORDER BY kind"
            ).map { try $0.decode((String, Bool, Bool).self) }
            #expect(replays.map { "\($0.0) \($0.1) \($0.2)" } == ["receipt true true", "referral false true"], "terms for the referral, none for the receipt")
        }
    }

    @Test func answersAndQuestionsShowAsOneConversation() async throws {
        let setup = try Setup(recipientAdapter: "weiche-json")
        defer { try? FileManager.default.removeItem(at: setup.root) }
        let json = #"""
            { "agencies": [
                { "id": "massarbeit", "name": "M", "adapter": "weiche-json", "outbound": { "kind": "directory", "path": "/tmp" } },
                { "id": "jugendamt", "name": "J", "adapter": "weiche-json", "outbound": { "kind": "directory", "path": "/tmp" } } ],
              "routes": [
                { "from": "massarbeit", "type": "kinderbetreuung.anfrage", "to": "jugendamt", "legalBasis": "b", "purpose": "p", "categories": ["identity", "family"] },
                { "from": "jugendamt", "type": "kinderbetreuung.ergebnis", "to": "massarbeit", "legalBasis": "b", "purpose": "p", "categories": ["identity", "family"] } ] }
            """#
        let configuration = try GatewayConfiguration.load(Array(json.utf8), knownAdapters: [WeicheJSONAdapter.name])
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let store = PipelineStore(pool: pool, clock: ManualClock())
            let policy = Policy(configuration: configuration)
            let question = referral(to: ["jugendamt"])
            guard case .stored(let questionID, _) = try await store.ingest(question, decisions: policy.evaluate(question), actor: "t") else {
                Issue.record("question not stored")
                return
            }
            var answer = referral(to: ["massarbeit"], type: "kinderbetreuung.ergebnis")
            answer.sender = AgencyID("jugendamt")!
            answer.inReplyTo = questionID.uuidString.uppercased()
            guard case .stored(let answerID, _) = try await store.ingest(answer, decisions: policy.evaluate(answer), actor: "t") else {
                Issue.record("answer not stored")
                return
            }
            let questionDetail = try #require(try await store.messageDetail(questionID))
            #expect(questionDetail.conversation.map(\.id) == [answerID])
            #expect(questionDetail.conversation.first?.relation == "answered by")
            let answerDetail = try #require(try await store.messageDetail(answerID))
            #expect(answerDetail.conversation.map(\.id) == [questionID])
            #expect(answerDetail.conversation.first?.relation == "answers")
            #expect(try await store.messageDetail(UUID()) == nil)
        }
    }
}
