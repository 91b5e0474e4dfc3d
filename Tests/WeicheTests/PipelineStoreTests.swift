import Foundation
import Synchronization
import Testing
import Weiche
import WeicheCore
import WeichePostgres
import WeicheTesting

@Suite("The durable pipeline store")
struct PipelineStoreTests {
    static let configuration = try! GatewayConfiguration.load(
        Array(ConfigurationTests.valid.utf8), knownAdapters: ConfigurationTests.adapters)
    let policy = Policy(configuration: Self.configuration)
    let retry = GatewayConfiguration.RetryPolicy(base: .seconds(10), cap: .seconds(300), maxAttempts: 4)

    func childcareRequest(id: String = UUID().uuidString, to recipients: [String] = ["jugendamt"], children: Int = 2) -> Referral {
        Referral(
            senderMessageID: id, type: ReferralType("kinderbetreuung.anfrage")!, sender: AgencyID("massarbeit")!,
            recipients: recipients.map { AgencyID($0)! }, createdAt: Date(timeIntervalSince1970: 1_767_600_000.123_456),
            legalBasis: "§ 69 SGB X", purpose: "Kinderbetreuung",
            fields: [
                ReferralField("person.familyName", .identity, .text("Muster")),
                ReferralField("details.children", .family, .integer(children)),
                ReferralField("details.employer", .employment, .text("Firma GmbH")),
            ])
    }

    func ingest(_ store: PipelineStore, _ referral: Referral) async throws -> PipelineStore.IngestOutcome {
        try await store.ingest(referral, decisions: policy.evaluate(referral), actor: "test")
    }

    func events(_ pool: PostgresConnectionPool, _ message: UUID) async throws -> [String] {
        try await pool.query("SELECT kind FROM audit_log WHERE message_id = \(message) ORDER BY seq")
            .map { try $0.decode(String.self, at: 0) }
    }

    /// With statistics older than the backlog, PostgreSQL would read and sort every pending
    /// row to claim the first hundred; the claim's settings keep it to an ordered scan of the
    /// pending index that stops after `limit` rows.
    @Test func theClaimScansThePendingIndexInOrderWhateverTheStatistics() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await pool.query("""
                WITH m AS (
                    INSERT INTO message (id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose, content_sha256, referral)
                    SELECT gen_random_uuid(), 'massarbeit', 'm-' || g, 'kinderbetreuung.anfrage', now(), now(), 'x', 'y', md5(g::text), '{}'
                    FROM generate_series(1, 5000) g RETURNING id)
                INSERT INTO delivery (id, message_id, recipient, state, due_at, content, created_at)
                SELECT gen_random_uuid(), id, 'jugendamt', 'pending', now() - interval '1 minute', NULL, now() FROM m
                """)
            let plan = try await pool.withTransaction(settings: PipelineStore.queueSettings) { connection async throws in
                var bindings = PostgresBindings()
                bindings.append(Date())
                bindings.append(Optional<PostgresArray<UUID>>.none)
                bindings.append(100)
                bindings.append("worker")
                bindings.append(Date().addingTimeInterval(300))
                return try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN " + PipelineStore.claimSQL, bindings: bindings))
                    .map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
            }
            #expect(plan.contains("Index Scan using delivery_pending_due_idx"), "\(plan)")
            #expect(!plan.contains("Bitmap"), "\(plan)")
            let store = PipelineStore(pool: pool, clock: ManualClock(start: Date()))
            #expect(try await store.claimDue(limit: 100, worker: "w", lease: .seconds(60)).count == 100)
        }
    }

    /// The hot statements run prepared: a session plans them once, often while the tables are
    /// still empty, and keeps that plan. Made on empty tables, the plans must still find rows
    /// by index once the tables are full: no claim, completion or audit append may read a
    /// whole table (they did: a sequential scan for expired leases, a hash over every leased
    /// delivery, a hash over every message).
    @Test func plansMadeOnEmptyTablesStillUseIndexesOnceTheTablesFill() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await pool.withConnection { connection async throws in
                try await connection.query("SET plan_cache_mode = force_generic_plan")
                try await connection.query(PostgresQuery(unsafeSQL: """
                    PREPARE claim (timestamptz, uuid[], integer, text, timestamptz) AS \(PipelineStore.claimSQL);
                    """))
                try await connection.query(PostgresQuery(unsafeSQL: """
                    PREPARE complete (uuid[], int8[], text[], timestamptz[], timestamptz[], text[], text[], text[], timestamptz[]) AS \
                    \(PipelineStore.completeDeliveriesSQL)
                    """))
                let append = AuditBatch.appendSQL.replacingOccurrences(of: "$1", with: "ARRAY[now()]")
                    .replacingOccurrences(of: "$2", with: "ARRAY['t']").replacingOccurrences(of: "$3", with: "ARRAY['received']")
                    .replacingOccurrences(of: "$4", with: "ARRAY[$1::uuid]").replacingOccurrences(of: "$5", with: "ARRAY[NULL]")
                    .replacingOccurrences(of: "$6", with: "ARRAY[NULL]").replacingOccurrences(of: "$7", with: "ARRAY['{}'::jsonb]")
                // Planned now, on empty tables (and, for the claim, under its own settings).
                try await connection.withTransaction(settings: PipelineStore.queueSettings) { connection async throws in
                    try await connection.query("EXECUTE claim (now(), NULL, 100, 'w', now() + interval '5 minutes')")
                    try await connection.query("EXECUTE complete ('{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')")
                    // Each completion row finds its delivery by key: not every delivery joined
                    // to every row of the batch.
                    let plan = try await connection.query("EXPLAIN EXECUTE complete ('{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')")
                        .map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
                    #expect(plan.contains("Index Cond: (id = r.id)") && !plan.contains("Join Filter"), "\(plan)")
                }
                try await connection.query(PostgresQuery(unsafeSQL: append, bindings: { var b = PostgresBindings(); b.append(UUID()); return b }()))

                try await connection.query("""
                    WITH m AS (
                        INSERT INTO message (id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose, content_sha256, referral)
                        SELECT gen_random_uuid(), 'massarbeit', 'm-' || g, 'kinderbetreuung.anfrage', now(), now(), 'x', 'y', md5(g::text), '{}'
                        FROM generate_series(1, 5000) g RETURNING id)
                    INSERT INTO delivery (id, message_id, recipient, state, attempts, lease_owner, lease_expires_at, due_at, content, created_at)
                    SELECT gen_random_uuid(), id, 'jugendamt', 'delivering', 1, 'w', now() + interval '1 minute', now(), NULL, now() FROM m
                    """)
                let ids = try await connection.query("SELECT id FROM delivery LIMIT 2").map { try $0.decode(UUID.self, at: 0) }
                let message = try await connection.query("SELECT message_id FROM delivery LIMIT 1").single().decode(UUID.self, at: 0)
                let (before, after) = try await connection.withTransaction(settings: PipelineStore.queueSettings) { connection async throws in
                    // The session's counts, before and after; a transaction does not send them to
                    // the statistics collector midway.
                    func rowsReadByScans() async throws -> [String: Int] {
                        Dictionary(try await connection.query("""
                            SELECT relname, seq_tup_read FROM pg_stat_xact_user_tables
                            WHERE schemaname = current_schema() AND relname IN ('message', 'delivery')
                            """).map { try $0.decode((String, Int).self) }, uniquingKeysWith: +)
                    }
                    let before = try await rowsReadByScans()
                    try await connection.query("EXECUTE claim (now(), NULL, 100, 'w', now() + interval '5 minutes')")
                    func column(_ value: String) -> String { "ARRAY[\(Array(repeating: value, count: ids.count).joined(separator: ", "))]" }
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        EXECUTE complete (ARRAY['\(ids.map(\.uuidString).joined(separator: "', '"))']::uuid[], \(column("1")), \(column("'w'")),
                                          \(column("now()")), \(column("now()")), \(column("'delivered'")), \(column("NULL")),
                                          \(column("'delivered'")), \(column("NULL::timestamptz")))
                        """))
                    try await connection.query(PostgresQuery(unsafeSQL: append, bindings: { var b = PostgresBindings(); b.append(message); return b }()))
                    return (before, try await rowsReadByScans())
                }
                #expect(after["delivery"] == before["delivery"] && after["message"] == before["message"], "rows read by scans: \(before) → \(after)")
                let delivered = try await connection.query("SELECT count(*)::bigint FROM delivery WHERE state = 'delivered'").single()
                #expect(try delivered.decode(Int.self, at: 0) == 2)
            }
        }
    }

    @Test func ingestStoresRoutesRefusesAndRecordsMinimisation() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let store = PipelineStore(pool: pool, clock: ManualClock())
            let outcome = try await ingest(store, childcareRequest(to: ["jugendamt", "auslaenderbehoerde"]))
            guard case .stored(let id, let deliveries) = outcome else {
                Issue.record("expected stored, got \(outcome)")
                return
            }
            #expect(Array(deliveries.keys) == [AgencyID("jugendamt")!])
            #expect(try await events(pool, id) == ["received", "routed", "minimised", "refused"], "in the order of the recipients")
            let refusal = try await pool.query("""
                SELECT agencies[cardinality(agencies)], details ->> 'code', details ->> 'reason' FROM audit_log WHERE message_id = \(id) AND kind = 'refused'
                """).single().decode((String, String, String).self)
            #expect(refusal.0 == "auslaenderbehoerde")
            #expect(refusal.1 == "no-route")
            let removed = try await pool.query("SELECT details ->> 'removed' FROM audit_log WHERE message_id = \(id) AND kind = 'minimised'")
                .single().decode(String.self, at: 0)
            #expect(removed == "details.employer (employment)")
            // The delivery keeps its terms, not a copy of the payload (Decision 0012); a worker's
            // claim makes the content from them, without the removed field.
            let row = try await pool.query("SELECT d::text, array_to_string(categories, ',') FROM delivery d WHERE message_id = \(id)")
                .single().decode((String, String).self)
            #expect(!row.0.contains("Muster") && !row.0.contains("Firma"), "no payload in the delivery row")
            let route = try #require(Self.configuration.route(from: AgencyID("massarbeit")!, type: ReferralType("kinderbetreuung.anfrage")!, to: AgencyID("jugendamt")!))
            #expect(row.1 == route.categories.sorted().map(\.rawValue).joined(separator: ","))
            let claim = try #require(try await store.claimDue(limit: 10, worker: "w", lease: .seconds(60)).first)
            let content = try #require(claim.content)
            #expect(!content.fields.contains { $0.name == "details.employer" } && content.fields.contains { $0.category == .family })
            #expect(content.recipients == [AgencyID("jugendamt")!] && content.id == id)
            // The referral is stored as the gateway wrote it (`json`), not reprinted by the server.
            let referral = try await pool.query("SELECT referral::text FROM message WHERE id = \(id)").single().decode(String.self, at: 0)
            #expect(Array(referral.utf8) == ReferralJSON.encode(try ReferralJSON.decode(Array(referral.utf8))))
            let allEvents = try await pool.query("SELECT string_agg(details::text, ' ') FROM audit_log").single().decode(String.self, at: 0)
            #expect(!allEvents.contains("Muster") && !allEvents.contains("Firma"))
            // The sender's creation time survives with its microseconds.
            let sent = try await pool.query("SELECT sent_at FROM message WHERE id = \(id)").single().decode(Date.self, at: 0)
            #expect(abs(sent.timeIntervalSince1970 - 1_767_600_000.123_456) < 0.000_001)
        }
    }

    /// A delivery's terms decide its content when it is claimed; a category name the gateway
    /// does not know allows nothing, so a delivery never sends more than its terms name.
    @Test func aClaimMakesTheContentFromTheTermsAndAnUnknownCategoryAllowsNothing() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let store = PipelineStore(pool: pool, clock: ManualClock())
            guard case .stored(let id, _) = try await ingest(store, childcareRequest()) else {
                Issue.record("not stored")
                return
            }
            try await pool.query("UPDATE delivery SET categories = ARRAY['identity', 'no-such-category', 'family'], notice = 'Zweckbindung' WHERE message_id = \(id)")
            let content = try #require(try await store.claimDue(limit: 1, worker: "w", lease: .seconds(60)).first?.content)
            #expect(content.fields.map(\.name) == ["person.familyName", "details.children"])
            #expect(content.notice == "Zweckbindung")
        }
    }

    @Test func fiftyConcurrentSubmissionsOfOneMessageStoreOne() async throws {
        try await TestPostgres.withSchema(migrated: true, maxConnections: 8) { pool async throws in
            let store = PipelineStore(pool: pool)
            let referral = childcareRequest()
            let outcomes = try await withThrowingTaskGroup(of: PipelineStore.IngestOutcome.self) { group in
                for _ in 0..<50 { group.addTask { try await ingest(store, referral) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let stored = outcomes.filter { if case .stored = $0 { true } else { false } }
            let duplicates = outcomes.filter { if case .duplicate = $0 { true } else { false } }
            #expect(stored.count == 1)
            #expect(duplicates.count == 49)
            #expect(try await pool.query("SELECT count(*) FROM message").single().decode(Int.self, at: 0) == 1)
            #expect(try await pool.query("SELECT count(*) FROM delivery").single().decode(Int.self, at: 0) == 1)

            // The same id with other content is a conflict, recorded, and stores nothing new.
            let changed = childcareRequest(id: referral.senderMessageID, children: 3)
            guard case .conflict(let existing) = try await ingest(store, changed) else {
                Issue.record("a changed payload under the same id must be refused")
                return
            }
            #expect(try await events(pool, existing).last == "conflict")
            #expect(try await pool.query("SELECT count(*) FROM message").single().decode(Int.self, at: 0) == 1)
        }
    }

    /// A batch is stored with a plain insert, which fails on the key if one of its sender
    /// message ids is known; the batch then goes again, skipping the known ones. New messages
    /// beside a resend and a conflict are stored once, and the first try leaves no trace.
    @Test func aBatchWithKnownMessageIdsStoresTheNewOnesOnce() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let store = PipelineStore(pool: pool, clock: ManualClock())
            let known = childcareRequest()
            guard case .stored(let knownID, _) = try await ingest(store, known) else {
                Issue.record("not stored")
                return
            }
            let entriesBefore = try await pool.query("SELECT count(*) FROM audit_log").single().decode(Int.self, at: 0)
            let (first, second) = (childcareRequest(), childcareRequest())
            let changed = childcareRequest(id: known.senderMessageID, children: 5)
            let batch = [first, known, second, changed].map { (referral: $0, decisions: policy.evaluate($0)) }
            let outcomes = try await store.ingest(batch, actor: "test", claimingFor: nil).outcomes
            guard outcomes.count == 4, case .stored(let firstID, _) = outcomes[0], case .duplicate(knownID) = outcomes[1],
                case .stored(let secondID, _) = outcomes[2], case .conflict(knownID) = outcomes[3]
            else {
                Issue.record("expected stored, duplicate, stored, conflict; got \(outcomes)")
                return
            }
            #expect(try await pool.query("SELECT count(*) FROM message").single().decode(Int.self, at: 0) == 3)
            #expect(try await pool.query("SELECT count(*) FROM delivery").single().decode(Int.self, at: 0) == 3)
            for id in [firstID, secondID] { #expect(try await events(pool, id) == ["received", "routed", "minimised"]) }
            #expect(try await events(pool, knownID).last == "conflict")
            // Exactly those entries, numbered without a gap: the failed first try wrote nothing.
            let after = try await pool.query("SELECT count(*), max(seq) FROM audit_log").single().decode((Int, Int).self)
            #expect(after.0 == entriesBefore + 7 && after.1 == after.0)

            // A batch of new ids only is stored by the first try.
            let fresh = [childcareRequest(), childcareRequest()].map { (referral: $0, decisions: policy.evaluate($0)) }
            let stored = try await store.ingest(fresh, actor: "test", claimingFor: nil).outcomes
            #expect(stored.allSatisfy { if case .stored = $0 { true } else { false } })
        }
    }

    @Test func retriesBackOffWithinJitterBoundsThenDeliverOnce() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let clock = ManualClock()
            let store = PipelineStore(pool: pool, clock: clock)
            _ = try await ingest(store, childcareRequest())
            let transport = RecordingTransport(script: [.retryableFailure("503"), .retryableFailure("503"), .retryableFailure("timeout")])
            var completions: [PipelineStore.Completion] = []
            for attempt in 1...4 {
                let claims = try await store.claimDue(limit: 10, worker: "w1", lease: .seconds(60))
                #expect(claims.count == 1, "attempt \(attempt)")
                let claim = try #require(claims.first)
                #expect(claim.attempt == attempt)
                #expect(try await store.claimDue(limit: 10, worker: "w2", lease: .seconds(60)).isEmpty, "held under lease")
                let document = OutboundDocument(bytes: [], fileName: "\(claim.messageID).json", contentType: "application/json")
                let outcome = await transport.deliver(document, messageID: claim.messageID)
                let completion = try await store.complete(claim, outcome: outcome, retry: retry)
                completions.append(completion)
                if case .retryAt(let due) = completion {
                    let wait = due.timeIntervalSince(clock.now())
                    let ceiling = Backoff(policy: retry).ceiling(afterAttempt: attempt)
                    #expect(wait >= 0 && wait <= Double(ceiling.components.seconds), "attempt \(attempt): \(wait)s")
                    #expect(try await store.claimDue(limit: 10, worker: "w1", lease: .seconds(60)).isEmpty || wait == 0, "not due before its time")
                    clock.advance(by: wait)
                }
            }
            #expect(completions.last == .delivered)
            #expect(transport.delivered.count == 1)
            let attempts = try await pool.query("SELECT attempt, outcome FROM delivery_attempt ORDER BY attempt").map { try $0.decode((Int, String).self) }
            #expect(attempts.map(\.0) == [1, 2, 3, 4])
            #expect(attempts.map(\.1) == ["retryable", "retryable", "retryable", "delivered"])
            let state = try await pool.query("SELECT state, attempts FROM delivery").single().decode((String, Int).self)
            #expect(state == ("delivered", 4))
        }
    }

    @Test func permanentFailureIsADeadLetterAfterOneAttempt() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let store = PipelineStore(pool: pool, clock: ManualClock())
            _ = try await ingest(store, childcareRequest())
            let claim = try #require(try await store.claimDue(limit: 1, worker: "w", lease: .seconds(60)).first)
            #expect(try await store.complete(claim, outcome: .permanentFailure("422 rejected"), retry: retry) == .failed)
            let row = try await pool.query("SELECT state, attempts, last_error FROM delivery").single().decode((String, Int, String?).self)
            #expect(row.0 == "failed" && row.1 == 1 && row.2 == "422 rejected")
        }
    }

    @Test func transientFailuresBecomeADeadLetterAfterMaxAttempts() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let clock = ManualClock()
            let store = PipelineStore(pool: pool, clock: clock)
            _ = try await ingest(store, childcareRequest())
            var last: PipelineStore.Completion?
            for _ in 1...retry.maxAttempts {
                let claim = try #require(try await store.claimDue(limit: 1, worker: "w", lease: .seconds(60)).first)
                last = try await store.complete(claim, outcome: .retryableFailure("down"), retry: retry)
                clock.advance(by: 3600)
            }
            #expect(last == .failed)
            #expect(try await store.claimDue(limit: 1, worker: "w", lease: .seconds(60)).isEmpty)
            #expect(try await pool.query("SELECT count(*) FROM delivery_attempt").single().decode(Int.self, at: 0) == retry.maxAttempts)
        }
    }

    @Test func expiredLeaseIsTakenOverAndCompletesExactlyOnce() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let clock = ManualClock()
            let store = PipelineStore(pool: pool, clock: clock)
            _ = try await ingest(store, childcareRequest())
            let crashed = try #require(try await store.claimDue(limit: 1, worker: "crashed", lease: .seconds(30)).first)
            clock.advance(by: 29)
            #expect(try await store.claimDue(limit: 1, worker: "rescuer", lease: .seconds(30)).isEmpty, "lease still valid")
            clock.advance(by: 2)
            let rescued = try #require(try await store.claimDue(limit: 1, worker: "rescuer", lease: .seconds(30)).first)
            #expect(rescued.deliveryID == crashed.deliveryID)
            #expect(rescued.attempt == 2)
            #expect(try await store.complete(rescued, outcome: .delivered, retry: retry) == .delivered)
            // The crashed worker wakes up late: its report cannot change the outcome.
            #expect(try await store.complete(crashed, outcome: .permanentFailure("late"), retry: retry) == .leaseLost)
            #expect(try await pool.query("SELECT state FROM delivery").single().decode(String.self, at: 0) == "delivered")
            #expect(try await events(pool, crashed.messageID).filter { $0 == "delivered" }.count == 1)
            #expect(try await events(pool, crashed.messageID).contains("lease-expired"))
        }
    }

    /// A delivery claimed at ingest is handed on from memory (Decision 0009); it must be
    /// exactly what a worker's claim reads back from the database, whatever the referral holds.
    @Test func aClaimAtIngestCarriesWhatAWorkersClaimReadsBack() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let clock = ManualClock()
            let store = PipelineStore(pool: pool, clock: clock)
            var generator = SystemRandomNumberGenerator()
            let batch = (0..<60).map { _ -> (referral: Referral, decisions: [Policy.Decision]) in
                // PostgreSQL stores no U+0000; the adapters refuse it before it gets here.
                var random = ReferralJSONTests.randomReferral(&generator)
                while String(decoding: ReferralJSON.encode(random), as: UTF8.self).contains("\\u0000") {
                    random = ReferralJSONTests.randomReferral(&generator)
                }
                var referral = childcareRequest(to: ["jugendamt", "gesundheitsamt"])
                referral.createdAt = random.createdAt
                referral.consentReference = random.consentReference
                referral.inReplyTo = random.inReplyTo
                referral.notice = random.notice
                // Random values in fields the recipients may receive (minimisation drops the others).
                referral.fields[0].value = .text(random.purpose)
                referral.fields[1].value = random.fields.first?.value ?? .list([])
                return (referral, policy.evaluate(referral))
            }
            let atIngest = try await store.ingest(batch, actor: "test", claimingFor: .init(worker: "ingest", lease: .seconds(30))).claims
            #expect(atIngest.count >= batch.count)
            clock.advance(by: 31)
            let read = try await store.claimDue(limit: 1_000, worker: "worker", lease: .seconds(30))
            #expect(read.count == atIngest.count)
            let readByID = Dictionary(uniqueKeysWithValues: read.map { ($0.deliveryID, $0) })
            for claim in atIngest {
                let back = try #require(readByID[claim.deliveryID])
                #expect(claim.content != nil)
                #expect(back.content == claim.content, "delivery \(claim.deliveryID)")
                #expect(back.messageID == claim.messageID && back.recipient == claim.recipient)
            }
        }
    }

    @Test func twoWorkersDeliverAThousandReferralsWithNoneTwice() async throws {
        try await TestPostgres.withSchema(migrated: true, maxConnections: 8) { pool async throws in
            let store = PipelineStore(pool: pool)
            for _ in 0..<1000 { _ = try await ingest(store, childcareRequest()) }
            let transport = RecordingTransport()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in ["serve-1", "serve-2"] {
                    group.addTask {
                        while true {
                            let claims = try await store.claimDue(limit: 25, worker: worker, lease: .seconds(300))
                            if claims.isEmpty { return }
                            for claim in claims {
                                let document = OutboundDocument(bytes: [], fileName: "\(claim.messageID).json", contentType: "application/json")
                                let outcome = await transport.deliver(document, messageID: claim.messageID)
                                try await store.complete(claim, outcome: outcome, retry: retry)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let delivered = transport.delivered.map(\.messageID)
            #expect(delivered.count == 1000)
            #expect(Set(delivered).count == 1000, "no delivery was made twice")
            let workers = try await pool.query("SELECT count(DISTINCT worker) FROM delivery_attempt").single().decode(Int.self, at: 0)
            #expect(workers == 2, "both workers took part")
            #expect(try await pool.query("SELECT count(*) FROM delivery WHERE state = 'delivered'").single().decode(Int.self, at: 0) == 1000)
        }
    }
}
