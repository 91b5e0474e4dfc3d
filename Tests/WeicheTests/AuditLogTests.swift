import Foundation
import Testing
import Weiche
import WeicheCore
import WeichePostgres
import WeicheTesting

/// A reproducible random source, so a failing tampering can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("The audit log: hash chain, tamper detection, roles")
struct AuditLogTests {
    static let kinds = AuditEventKind.allCases
    static let agencies = ["massarbeit", "jugendamt", "auslaenderbehoerde", "gesundheitsamt", "psychosoziale-beratung"]

    /// Appends `events` in one transaction: through the gateway's `AuditBatch` (the typed
    /// arrays of migration 14), or as one JSON document through `audit_append(jsonb)`, which
    /// every schema since migration 4 has.
    static func append(_ events: [AuditEvent], to pool: PostgresConnectionPool, asDocument: Bool = false) async throws {
        if asDocument {
            try await pool.withTransaction { connection in
                try await connection.query("SELECT audit_append(\(PostgresJSON(events)))")
            }
        } else {
            try await pool.withAuditedTransaction { _, audit in
                for event in events { audit.add(event) }
            }
        }
    }

    /// Appends `count` varied events in transactions of `batch`.
    static func appendEvents(
        _ count: Int, batch: Int = 500, actor: String = "test", to pool: PostgresConnectionPool, seed: UInt64 = 1, asDocument: Bool = false
    ) async throws {
        var random = SplitMix64(state: seed)
        var written = 0
        while written < count {
            let size = min(batch, count - written)
            var events: [AuditEvent] = []
            for index in 0..<size {
                let number = written + index
                events.append(AuditEvent(
                    kinds[Int(random.next() % UInt64(kinds.count))], at: Date(timeIntervalSince1970: 1_767_600_000 + Double(number) * 0.001234),
                    actor: "\(actor)-\(number % 7)", agency: AgencyID(agencies[Int(random.next() % 5)]),
                    subject: number % 3 == 0 ? String(repeating: "ab", count: 32) : nil,
                    details: ["n": String(number), "reason": "Grund Nr. \(number) mit Umlaut ä; \"quoted\""]))
            }
            try await append(events, to: pool, asDocument: asDocument)
            written += size
        }
    }

    static func allEntries(_ pool: PostgresConnectionPool) async throws -> [AuditEntry] {
        try await AuditLog(pool: pool).query(AuditLog.Filter(), limit: 1_000_000)
    }

    @Test func detailsAreKeptByNameWithoutEmptyValuesAsADictionaryWouldHoldThem() throws {
        let details: AuditDetails = ["reason": "late", "attempt": "2", "error": ""]
        #expect(details.members.map(\.name) == ["attempt", "reason"])
        #expect(details["reason"] == "late")
        #expect(details["error"] == nil)
        #expect(AuditDetails(["b": "2", "a": "1", "c": ""]) == ["a": "1", "b": "2"])
        #expect(AuditDetails(["only": ""]).isEmpty)
        let coded = try JSONDecoder().decode([String: String].self, from: JSONEncoder().encode(details))
        #expect(coded == ["attempt": "2", "reason": "late"])
        #expect(try JSONDecoder().decode(AuditDetails.self, from: Data(#"{"z": "1", "a": ""}"#.utf8)) == ["z": "1"])
    }

    @Test func appendsChainFromGenesisAndTheSwiftVerifierAgreesWithPostgres() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await Self.appendEvents(250, batch: 60, to: pool)
            let log = AuditLog(pool: pool)
            let head = try await log.head()
            #expect(head.seq == 250)
            let verification = try await log.verify(pageSize: 40)
            #expect(verification.failure == nil, "\(String(describing: verification.failure))")
            #expect(verification.checked == 250)
            let entries = try await Self.allEntries(pool)
            #expect(entries.map(\.seq) == Array(1...250))
            #expect(entries.last?.hash == head.hash)
        }
    }

    /// A time range finds exactly the entries appended in it, through the BRIN index on time
    /// (migration 12) once scans of the whole table are off, as on a large log.
    @Test func timeRangesFindTheirEntriesThroughTheTimeIndex() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await Self.appendEvents(3_000, batch: 500, to: pool)
            let all = try await Self.allEntries(pool)
            let since = all[1_000].at, until = all[1_999].at
            let found = try await AuditLog(pool: pool).query(AuditLog.Filter(since: since, until: until), limit: 10_000)
            #expect(found.map(\.seq) == all.filter { $0.at >= since && $0.at <= until }.map(\.seq))
            #expect(found.count >= 1_000)
            let plan = try await pool.withTransaction { connection in
                try await connection.query("SET LOCAL enable_seqscan = off")
                return try await connection.query(
                    "EXPLAIN SELECT seq FROM audit_log WHERE at >= \(since) AND at <= \(until)"
                ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
            }
            #expect(plan.contains("audit_log_at_brin"), "\(plan)")
        }
    }

    /// Migration 7 replaced `audit_append` with a set-based one, and migration 14 with one
    /// taking typed arrays: a log begun by migration 4's entry-by-entry function and continued
    /// by today's verifies as one chain, and its entries and hashes are exactly those today's
    /// function alone writes for the same events, whether given arrays or a JSON document.
    @Test func theSetBasedAppendContinuesTheEntryByEntryChainHashForHash() async throws {
        let throughFour = Array(Migration.all.prefix { $0.version <= 4 })
        let (mixed, mixedHead) = try await TestPostgres.withSchema { pool async throws in
            _ = try await Migrator(migrations: throughFour).migrate(on: pool)
            try await Self.appendEvents(300, batch: 70, to: pool, seed: 7, asDocument: true)
            _ = try await Migrator().migrate(on: pool)
            try await Self.appendEvents(300, batch: 70, actor: "after", to: pool, seed: 8)
            #expect(try await AuditLog(pool: pool).verify(pageSize: 100).failure == nil)
            return (try await Self.allEntries(pool), try await AuditLog(pool: pool).head())
        }
        for asDocument in [false, true] {
            let (current, currentHead) = try await TestPostgres.withSchema(migrated: true) { pool async throws in
                try await Self.appendEvents(300, batch: 70, to: pool, seed: 7, asDocument: asDocument)
                try await Self.appendEvents(300, batch: 70, actor: "after", to: pool, seed: 8, asDocument: asDocument)
                #expect(try await AuditLog(pool: pool).verify(pageSize: 100).failure == nil)
                return (try await Self.allEntries(pool), try await AuditLog(pool: pool).head())
            }
            #expect(mixed.count == 600)
            #expect(mixed == current, "as a document: \(asDocument)")
            #expect(mixedHead.hash == currentHead.hash)
        }
    }

    /// Entries about messages take the message's sender (first) and subject from the message:
    /// migration 9 looks them up by key instead of by join, and every combination of message,
    /// agency and subject comes out exactly as migration 4's entry-by-entry function made it.
    @Test func entriesAboutMessagesTakeSenderAndSubjectAsMigrationFourDid() async throws {
        let messages = [UUID(), UUID()]
        let unknown = UUID()
        func write(migrations: [Migration], asDocument: Bool) async throws -> [AuditEntry] {
            try await TestPostgres.withSchema { pool async throws in
                _ = try await Migrator(migrations: migrations).migrate(on: pool)
                for (index, id) in messages.enumerated() {
                    try await pool.query("""
                        INSERT INTO message (id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose, content_sha256, referral, subject)
                        VALUES (\(id), 'massarbeit', \("m-\(index)"), 'kinderbetreuung.anfrage', now(), now(), 'x', 'y', 'h', '{}',
                                \(index == 0 ? "subject-of-message" : Optional<String>.none))
                        """)
                }
                let at = Date(timeIntervalSince1970: 1_767_600_000.25)
                let events = [
                    AuditEvent(.routed, at: at, actor: "a", message: messages[0], agency: AgencyID("jugendamt")),
                    AuditEvent(.received, at: at, actor: "a", message: messages[0], agency: AgencyID("massarbeit")),
                    AuditEvent(.delivered, at: at, actor: "a", message: messages[0]),
                    AuditEvent(.routed, at: at, actor: "a", message: messages[0], subject: "given-subject"),
                    AuditEvent(.routed, at: at, actor: "a", message: messages[1], agency: AgencyID("jugendamt")),
                    AuditEvent(.routed, at: at, actor: "a", message: unknown, agency: AgencyID("jugendamt")),
                    AuditEvent(.configurationApplied, at: at, actor: "a", agency: AgencyID("jugendamt")),
                    AuditEvent(.configurationApplied, at: at, actor: "a"),
                ]
                try await Self.append(events, to: pool, asDocument: asDocument)
                return try await Self.allEntries(pool)
            }
        }
        let old = try await write(migrations: Array(Migration.all.prefix { $0.version <= 4 }), asDocument: true)
        let new = try await write(migrations: Migration.all, asDocument: false)
        #expect(try await write(migrations: Migration.all, asDocument: true) == new)
        #expect(new.map(\.agencies) == [["massarbeit", "jugendamt"], ["massarbeit"], ["massarbeit"], ["massarbeit"], ["massarbeit", "jugendamt"],
                                        ["jugendamt"], ["jugendamt"], []])
        #expect(new.map(\.subject) == ["subject-of-message", "subject-of-message", "subject-of-message", "given-subject", nil, nil, nil, nil])
        #expect(new == old, "the same entries and hashes as migration 4 wrote")
    }

    /// ≥ 1,000 random single tamperings of a 10,000-entry log (written by PostgreSQL), each
    /// detected at the sequence number where it was made; the untampered log reports OK.
    @Test func everyTamperingIsDetectedAtItsSequenceNumber() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await Self.appendEvents(10_000, to: pool)
            let original = try await Self.allEntries(pool)
            let head = try await AuditLog(pool: pool).head()
            #expect(original.count == 10_000)
            #expect(AuditVerifier.check(original, head: head).failure == nil, "no false alarm on the untampered log")
            let anchors = original.filter { $0.seq % 100 == 0 }.map { AuditVerifier.Head(seq: $0.seq, hash: $0.hash) }
            #expect(AuditVerifier.check(original, head: head, anchors: anchors).failure == nil, "no false alarm with anchors")

            var random = SplitMix64(state: 2026)
            var misses: [String] = []
            var counts: [String: Int] = [:]
            let total = 1_050
            for round in 0..<total {
                let (name, tampered, forgedHead, expected) = Self.tamper(original, head: head, kind: round % 7, random: &random)
                counts[name, default: 0] += 1
                // Every 25th round re-computes the whole log; the others start two entries (or one
                // anchor) before the tampering, from the untampered prefix's known hash, which the
                // full check above already verified.
                var start: AuditVerifier.Head?
                let from = forgedHead == nil ? Int(expected) - 3 : max(Int(expected) - 2, 0)
                if round % 25 != 0 && from >= 1 { start = AuditVerifier.Head(seq: Int64(from), hash: original[from - 1].hash) }
                let failure = AuditVerifier.check(tampered, head: forgedHead ?? head, anchors: forgedHead == nil ? [] : anchors, start: start).failure
                if failure?.seq != expected {
                    misses.append("round \(round) \(name): expected \(expected), got \(String(describing: failure))")
                }
            }
            #expect(misses.isEmpty, "\(misses.count) of \(total) missed: \(misses.prefix(5))")
            #expect(counts.count == 7 && counts.values.allSatisfy { $0 >= 150 }, "\(counts)")
        }
    }

    /// One tampering of `log`: its name, the tampered entries, a forged head if the tamperer
    /// also rewrote the head, and the sequence number the verifier must report.
    static func tamper(
        _ log: [AuditEntry], head: AuditVerifier.Head, kind: Int, random: inout SplitMix64
    ) -> (String, [AuditEntry], AuditVerifier.Head?, Int64) {
        var entries = log
        let count = entries.count
        func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
        func forged(seq: Int64) -> AuditEntry {
            AuditEntry(seq: seq, atMicroseconds: 1_767_600_000_000_000, actor: "forger", kind: "delivered", messageID: nil,
                       agencies: ["massarbeit"], subject: nil, details: #"{"forged": "yes"}"#, hash: String(repeating: "7", count: 64))
        }
        switch kind {
        case 0:
            let k = pick(0...(count - 1))
            switch pick(0...5) {
            case 0: entries[k].actor += "x"
            case 1: entries[k].kind = entries[k].kind == "delivered" ? "failed" : "delivered"
            case 2: entries[k].details = #"{"n": "changed"}"#
            case 3: entries[k].agencies = entries[k].agencies + ["jugendamt-x"]
            case 4: entries[k].subject = entries[k].subject == nil ? "cd" : nil
            default: entries[k].atMicroseconds += 1
            }
            return ("change a field", entries, nil, Int64(k + 1))
        case 1:
            let k = pick(0...(count - 1))
            entries.remove(at: k)
            return ("delete", entries, nil, Int64(k + 1))
        case 2:
            let k = pick(0...(count - 2))
            entries.remove(at: k)
            for index in k..<entries.count { entries[index].seq -= 1 }
            return ("delete and renumber", entries, nil, Int64(k + 1))
        case 3:
            let i = pick(0...(count - 2)), j = pick((i + 1)...(count - 1))
            let first = entries[i], second = entries[j]
            entries[i] = second
            entries[i].seq = first.seq
            entries[j] = first
            entries[j].seq = second.seq
            return ("swap two", entries, nil, Int64(i + 1))
        case 4, 5:
            let k = pick(0...(count - 1))
            for index in k..<entries.count { entries[index].seq += 1 }
            var inserted = forged(seq: Int64(k + 1))
            if kind == 5 {
                // A careful forger chains the new entry to the one before it.
                let previous = k == 0 ? [UInt8](repeating: 0, count: 32) : entries[k - 1].hash.hexBytes!
                inserted.hash = inserted.expectedHash(after: previous).hexString
            }
            entries.insert(inserted, at: k)
            return (kind == 5 ? "insert a chained forgery" : "insert a forgery", entries, nil, Int64(k + 1))
        default:
            // Truncate after t, append a forged tail with a correct chain, and forge the head.
            let t = pick(0...(count - 1))
            entries.removeSubrange(t...)
            var previous = t == 0 ? [UInt8](repeating: 0, count: 32) : entries[t - 1].hash.hexBytes!
            for seq in (t + 1)...(t + pick(1...(count - t + 50))) {
                var entry = forged(seq: Int64(seq))
                entry.hash = entry.expectedHash(after: previous).hexString
                previous = entry.hash.hexBytes!
                entries.append(entry)
            }
            let forgedHead = AuditVerifier.Head(seq: entries.last!.seq, hash: entries.last!.hash)
            // Anchors every 100 entries: everything up to the last anchor at or before t holds.
            let lastIntactAnchor = Int64(t / 100 * 100)
            return ("truncate and re-hash the tail", entries, forgedHead, lastIntactAnchor + 1)
        }
    }

    @Test func tamperingInsideTheDatabaseIsFoundByVerify() async throws {
        let cases: [(String, String, Int64, AuditVerifier.Break.Kind)] = [
            ("a changed field", "UPDATE audit_log SET details = '{\"reason\": \"edited\"}' WHERE seq = 37", 37, .changed),
            ("a deleted entry", "DELETE FROM audit_log WHERE seq = 50", 50, .missing),
            ("two swapped entries", "UPDATE audit_log SET seq = seq + 1000 WHERE seq IN (10, 11); UPDATE audit_log SET seq = 21 - (seq - 1000) WHERE seq > 1000", 10, .reordered),
            ("a removed tail", "DELETE FROM audit_log WHERE seq > 180", 181, .missing),
        ]
        for (name, sql, seq, kind) in cases {
            try await TestPostgres.withSchema(migrated: true) { pool async throws in
                try await Self.appendEvents(200, batch: 25, to: pool)
                // Only a superuser can get past the triggers, by switching them off.
                try await pool.withConnection { connection in
                    try await connection.execute(unsafeSQL: "SET session_replication_role = replica; \(sql); RESET session_replication_role")
                }
                let failure = try await AuditLog(pool: pool).verify(pageSize: 64).failure
                #expect(failure?.seq == seq, "\(name): \(String(describing: failure))")
                #expect(failure?.kind == kind, "\(name): \(String(describing: failure))")
            }
        }
    }

    @Test func anAnchorCatchesASuperuserWhoRewroteTheTail() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await Self.appendEvents(300, batch: 50, to: pool)
            let log = AuditLog(pool: pool)
            let anchor = try await log.head()
            // The superuser deletes from entry 120 on and re-appends forged entries through the append path.
            try await pool.withConnection { connection in
                try await connection.execute(unsafeSQL: """
                    SET session_replication_role = replica;
                    DELETE FROM audit_log WHERE seq >= 120;
                    UPDATE audit_head SET seq = 119, hash = (SELECT hash FROM audit_log WHERE seq = 119);
                    RESET session_replication_role
                    """)
            }
            try await Self.appendEvents(250, batch: 50, actor: "forger", to: pool, seed: 99)
            #expect(try await log.verify().failure == nil, "without an anchor, the rewritten chain is consistent")
            let failure = try await log.verify(anchors: [anchor]).failure
            #expect(failure?.kind == .rewritten)
            #expect(failure?.seq == 1, "no earlier anchor: nothing before it can be vouched for")
            #expect(failure?.explanation.contains("anchored entry 300") == true, "\(String(describing: failure))")
        }
    }

    @Test func theLogRefusesChangesEvenFromItsOwner() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await Self.appendEvents(5, to: pool)
            for sql in ["UPDATE audit_log SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1", "TRUNCATE audit_log",
                        "DELETE FROM audit_head"] {
                await #expect(throws: PostgresError.self, "\(sql)") { try await pool.query(PostgresQuery(unsafeSQL: sql)) }
            }
            let message = try await #require(throws: PostgresError.self) { try await pool.query("UPDATE audit_log SET actor = 'x'") }
            #expect(message.message.contains("append-only"))
            #expect(try await AuditLog(pool: pool).verify().failure == nil)
        }
    }

    @Test func theGatewayRoleCanOnlyAppendAndTheAuditorCannotReadPayloads() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await Self.appendEvents(3, to: pool)
            func asRole(_ role: String, _ sql: String) async throws {
                try await pool.withTransaction { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL ROLE \(role)"))
                    try await connection.query(PostgresQuery(unsafeSQL: sql))
                }
            }
            for sql in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                        "INSERT INTO audit_log (seq, at, actor, kind, hash) VALUES (99, now(), 'x', 'x', sha256(''))",
                        "UPDATE audit_head SET seq = 0"] {
                let error = try await #require(throws: PostgresError.self, "\(sql)") { try await asRole("weiche_gateway", sql) }
                #expect(error.sqlState == "42501", "\(sql): \(error)")
            }
            // The append path works for the gateway, and the chain stays intact.
            try await asRole("weiche_gateway", """
                SELECT audit_append('[{"at": "2026-01-05T08:00:00Z", "actor": "gateway", "kind": "received"}]')
                """)
            #expect(try await AuditLog(pool: pool).head().seq == 4)
            let arrays = """
                SELECT audit_append(ARRAY[now()], ARRAY['gateway'], ARRAY['routed'], ARRAY[NULL::uuid], ARRAY['jugendamt'], \
                ARRAY[NULL::text], ARRAY['{"n": "1"}'::jsonb])
                """
            try await asRole("weiche_gateway", arrays)
            #expect(try await AuditLog(pool: pool).head().seq == 5)
            for sql in ["SELECT referral FROM message", "SELECT content FROM delivery", "SELECT * FROM message",
                        "SELECT audit_append('[]')", arrays] {
                let error = try await #require(throws: PostgresError.self, "\(sql)") { try await asRole("weiche_auditor", sql) }
                #expect(error.sqlState == "42501", "\(sql): \(error)")
            }
            try await asRole("weiche_auditor", "SELECT a.seq, h.hash FROM audit_log a, audit_head h LIMIT 1")
            try await asRole("weiche_auditor", "SELECT id, type, legal_basis, subject FROM message_metadata")
            try await asRole("weiche_auditor", "SELECT audit_record_query('person/dpo', '{\"subject\": \"ab\"}')")
            let logged = try await pool.query("SELECT actor, details ->> 'databaseUser' FROM audit_log WHERE kind = 'audit-query'").single()
                .decode((String, String).self)
            #expect(logged.0 == "person/dpo")
            #expect(logged.1.isEmpty == false)
            #expect(try await AuditLog(pool: pool).verify().failure == nil)
        }
    }

    /// The appends run with their owner's rights, so they must not resolve a table name
    /// through the caller's search path, where `pg_temp` comes first: a gateway's temporary
    /// `audit_head` would otherwise let it append at any sequence number. Migrations 7 and 9
    /// had lost the fixed search path that migration 4 set; migration 14 sets it again.
    @Test func appendsIgnoreTablesTheCallerPutsInItsPath() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await Self.appendEvents(3, to: pool)
            for append in [
                "SELECT audit_append('[{\"at\": \"2026-01-05T08:00:00Z\", \"actor\": \"gateway\", \"kind\": \"received\"}]')",
                "SELECT audit_append(ARRAY[now()], ARRAY['gateway'], ARRAY['routed'], ARRAY[NULL::uuid], ARRAY[NULL], ARRAY[NULL], ARRAY['{}'::jsonb])",
            ] {
                try await pool.withTransaction { connection in
                    try await connection.query("SET LOCAL ROLE weiche_gateway")
                    try await connection.query("""
                        CREATE TEMPORARY TABLE audit_head ON COMMIT DROP AS SELECT true AS singleton, 1000::bigint AS seq, sha256('') AS hash
                        """)
                    try await connection.query(PostgresQuery(unsafeSQL: append))
                }
            }
            #expect(try await AuditLog(pool: pool).head().seq == 5)
            #expect(try await Self.allEntries(pool).map(\.seq) == [1, 2, 3, 4, 5])
            #expect(try await AuditLog(pool: pool).verify().failure == nil)
            let unfixed = try await pool.query("""
                SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace = current_schema()::regnamespace AND p.prosecdef
                  AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=' || quote_ident(current_schema()) || ', pg_temp'], false)
                """).map { try $0.decode(String.self, at: 0) }
            #expect(unfixed.isEmpty, "functions with their owner's rights and no fixed search path: \(unfixed)")
        }
    }

    /// The typed arrays of an append must line up, one element per entry in each, and every
    /// entry needs a time, an actor and a kind: otherwise nothing is appended.
    @Test func anAppendRefusesArraysThatDoNotLineUp() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let refused = [
                ("ARRAY[now(), now()]", "ARRAY['a', 'a']", "ARRAY['k']", "lengths"),
                ("ARRAY[now()]", "ARRAY['a']", "ARRAY['k', 'l']", "lengths"),
                ("ARRAY[now()]", "ARRAY['a']", "ARRAY[NULL::text]", "kind"),
                ("ARRAY[NULL::timestamptz]", "ARRAY['a']", "ARRAY['k']", "time"),
            ]
            for (ats, actors, kinds, what) in refused {
                let error = await #expect(throws: PostgresError.self, "\(what)") {
                    try await pool.query(PostgresQuery(unsafeSQL: """
                        SELECT audit_append(\(ats), \(actors), \(kinds), ARRAY[NULL::uuid], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY['{}'::jsonb])
                        """))
                }
                #expect(error?.message.contains(what == "lengths" ? "one element per entry" : "needs at, actor and kind") == true,
                        "\(what): \(String(describing: error))")
            }
            let empty = try await pool.query("SELECT audit_append('{}'::timestamptz[], '{}', '{}', '{}', '{}', '{}', '{}')").single()
                .decode(Int64?.self, at: 0)
            #expect(empty == nil)
            #expect(try await AuditLog(pool: pool).head().seq == 0)
        }
    }

    /// 8 concurrent writers × 2,000 events: no fork, no gap, and the chain verifies.
    @Test func concurrentWritersNeitherForkNorLeaveGaps() async throws {
        try await TestPostgres.withSchema(migrated: true, maxConnections: 8) { pool async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        try await Self.appendEvents(2_000, batch: 20, actor: "writer\(writer)", to: pool, seed: UInt64(writer + 10))
                    }
                }
                try await group.waitForAll()
            }
            let (count, minimum, maximum) = try await pool.query("SELECT count(*)::bigint, min(seq), max(seq) FROM audit_log").single()
                .decode((Int64, Int64, Int64).self)
            #expect(count == 16_000 && minimum == 1 && maximum == 16_000)
            let verification = try await AuditLog(pool: pool).verify()
            #expect(verification.failure == nil, "\(String(describing: verification.failure))")
            #expect(verification.checked == 16_000)
        }
    }

    @Test func subjectsAreKeyedHashesOfNormalisedIdentifiers() throws {
        let key = try #require(SubjectKey(secret: Array("0123456789abcdef0123456789abcdef".utf8)))
        let other = try #require(SubjectKey(secret: Array("fedcba9876543210fedcba9876543210".utf8)))
        let person = SubjectIdentifier(familyName: "Größer", givenName: "Jürgen", birthDate: "1979-11-03")
        let spelled = try SubjectIdentifier(parsing: " GROESSER , jürgen, 03.11.1979")
        #expect(spelled.birthDate == "1979-11-03")
        #expect(key.subject(SubjectIdentifier(familyName: "GRÖSSER", givenName: "Jurgen", birthDate: "1979-11-03")) == key.subject(person))
        #expect(key.subject(SubjectIdentifier(familyName: "Yılmaz", givenName: "Ayşe", birthDate: "1993-09-14"))
            == key.subject(SubjectIdentifier(familyName: "yilmaz", givenName: "ayse", birthDate: "1993-09-14")))
        #expect(key.subject(person) != other.subject(person), "a different key gives a different hash")
        #expect(key.subject(person).count == 64 && !key.subject(person).contains("rö"))
        #expect(SubjectKey(secret: Array("short".utf8)) == nil)
        #expect(throws: WeicheError.self) { try SubjectIdentifier(parsing: "Größer Jürgen 1979-11-03") }
        #expect(throws: WeicheError.self) { try SubjectIdentifier(parsing: "Größer, Jürgen, 1979-02-30") }
    }

    @Test func hmacMatchesRFC4231() {
        // RFC 4231, test case 2.
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(mac.hexString == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Test case 1, and test case 6: a key longer than SHA-256's block.
        #expect(HMACSHA256.mac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)).hexString
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(HMACSHA256.mac(key: [UInt8](repeating: 0xaa, count: 131), message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)).hexString
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// The one fetched HMAC serves concurrent callers, each with the result it would get alone.
    @Test func hmacFromManyTasksAtOnce() async {
        let messages = (0..<400).map { Array("message \($0)".utf8) }
        let alone = messages.map { HMACSHA256.mac(key: Array("key".utf8), message: $0) }
        let together = await withTaskGroup(of: (Int, [UInt8]).self) { group in
            for (index, message) in messages.enumerated() { group.addTask { (index, HMACSHA256.mac(key: Array("key".utf8), message: message)) } }
            return await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
        }
        #expect(messages.indices.allSatisfy { together[$0] == alone[$0] })
        #expect(Set(alone).count == messages.count)
        // One keyed context, as a SubjectKey holds it, shared by all the tasks.
        let keyed = HMACSHA256.Keyed(Array("key".utf8))
        let shared = await withTaskGroup(of: (Int, [UInt8]).self) { group in
            for (index, message) in messages.enumerated() { group.addTask { (index, keyed.mac(message)) } }
            return await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
        }
        #expect(messages.indices.allSatisfy { shared[$0] == alone[$0] })
    }

    @Test func exportsVerifyOnTheirOwnAndRevealTampering() async throws {
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            try await Self.appendEvents(400, batch: 50, to: pool)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-export-\(UUID().uuidString).jsonl").path
            defer { unlink(file) }
            let since = Date(timeIntervalSince1970: 1_767_600_000 + 100 * 0.001234)
            let header = try await AuditExport.write(from: AuditLog(pool: pool), since: since, until: nil, to: file, pageSize: 64)
            #expect(header.firstSeq == 101 && header.lastSeq == 400)
            let anchor = try await AuditLog(pool: pool).head()
            let verified = try AuditExport.verify(file, anchors: [anchor])
            #expect(verified.failure == nil && verified.checked == 300, "\(String(describing: verified.failure))")

            var lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
            lines[51] = lines[51].replacingOccurrences(of: "Grund Nr.", with: "Grund No.")
            try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let tampered = try AuditExport.verify(file)
            #expect(tampered.failure?.seq == 151, "\(String(describing: tampered.failure))")
        }
    }
}
