import Foundation
import Testing
import Weiche
import WeicheCore
import WeichePostgres
import WeicheTesting

@Suite("Migrations")
struct MigratorTests {
    private let first = Migration(version: 1, name: "one", sql: "CREATE TABLE one (id int); INSERT INTO one VALUES (1);")
    private let second = Migration(version: 2, name: "two", sql: "CREATE TABLE two (id int);")

    private func tables(_ pool: PostgresConnectionPool) async throws -> [String] {
        try await pool.query("""
            SELECT table_name::text FROM information_schema.tables
            WHERE table_schema = current_schema() ORDER BY table_name
            """).map { try $0.decode(String.self, at: 0) }
    }

    @Test func weichesOwnMigrationsApplyTwiceWithoutChange() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let firstRun = try await Migrator().migrate(on: pool)
            #expect(firstRun.applied.map(\.version) == Migration.all.map(\.version))
            let secondRun = try await Migrator().migrate(on: pool)
            #expect(secondRun.applied.isEmpty)
            #expect(secondRun.version == Migration.all.count)
            let recorded = try await pool.query("SELECT version, checksum FROM schema_migrations ORDER BY version")
                .map { try $0.decode((Int, String).self) }
            #expect(recorded.map(\.0) == Migration.all.map(\.version))
            #expect(recorded.map(\.1) == Migration.all.map(\.checksum))
            try await Migrator().verifyCurrent(on: pool)
        }
    }

    /// Migration 10 turns the payload columns from `jsonb` into `json`: payloads stored
    /// before it read back as the same referrals, and the columns stay compressed as before.
    @Test func payloadsStoredAsJsonbReadTheSameAfterMigration10() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let before = Migration.all.filter { $0.version < 10 }
            _ = try await Migrator(migrations: before).migrate(on: pool)
            let compression = "SELECT string_agg(attcompression::text, ',' ORDER BY attname) FROM pg_attribute WHERE attrelid IN ('message'::regclass, 'delivery'::regclass) AND attname IN ('referral', 'content')"
            let compressionBefore = try await pool.query(PostgresQuery(unsafeSQL: compression)).single().decode(String?.self, at: 0)
            let spec = try #require(ReferralCatalogue.spec(for: ReferralType("kinderbetreuung.anfrage")!))
            var referral = ReferralSamples.referral(spec, from: AgencyID("massarbeit")!, to: AgencyID("jugendamt")!)
            referral.createdAt = Date(timeIntervalSince1970: 1_767_600_000.123_456)
            let text = String(decoding: ReferralJSON.encode(referral), as: UTF8.self)
            let message = UUID()
            try await pool.query("""
                INSERT INTO message (id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose, content_sha256, referral)
                VALUES (\(message), 'massarbeit', 'm-1', 'kinderbetreuung.anfrage', now(), now(), '§ 69 SGB X', 'Zweck', 'x', \(text)::jsonb)
                """)
            try await pool.query("""
                INSERT INTO delivery (id, message_id, recipient, state, due_at, content, created_at)
                VALUES (\(UUID()), \(message), 'jugendamt', 'pending', now(), \(text)::jsonb, now())
                """)
            let report = try await Migrator().migrate(on: pool)
            #expect(report.applied.map(\.version) == Migration.all.map(\.version).filter { $0 >= 10 })
            let (types, referralText, contentText) = try await pool.query("""
                SELECT pg_typeof(m.referral)::text || ',' || pg_typeof(d.content)::text, m.referral::text, d.content::text
                FROM message m JOIN delivery d ON d.message_id = m.id
                """).single().decode((String, String, String).self)
            #expect(types == "json,json")
            #expect(try ReferralJSON.decode(Array(referralText.utf8)) == referral)
            #expect(try ReferralJSON.decode(Array(contentText.utf8)) == referral)
            let compressionAfter = try await pool.query(PostgresQuery(unsafeSQL: compression)).single().decode(String?.self, at: 0)
            #expect(compressionAfter == compressionBefore)
            // A delivery stored with its content before migration 11 is sent with that content.
            let claim = try #require(try await PipelineStore(pool: pool).claimDue(limit: 1, worker: "w", lease: .seconds(60)).first)
            #expect(claim.content == referral)
        }
    }

    @Test func laterMigrationsApplyInOrder() async throws {
        try await TestPostgres.withSchema { pool async throws in
            _ = try await Migrator(migrations: [first]).migrate(on: pool)
            var announced: [Int] = []
            let report = try await Migrator(migrations: [first, second]).migrate(on: pool) { announced.append($0.version) }
            #expect(report.applied == [second])
            #expect(announced == [2], "each pending migration is announced before it runs, and only those")
            #expect(try await tables(pool) == ["one", "schema_migrations", "two"])
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await TestPostgres.withSchema(maxConnections: 8) { pool async throws in
            let migrator = Migrator(migrations: [first, second])
            let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
                for _ in 0..<6 {
                    // Each migrator has its own connection, as separate processes would.
                    group.addTask { try await migrator.migrate(on: pool) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.flatMap(\.applied).count == 2, "exactly one migrator applied the two migrations")
            let rows = try await pool.query("SELECT count(*) FROM one").single().decode(Int.self, at: 0)
            #expect(rows == 1, "the data step ran once")
        }
    }

    @Test func changedChecksumIsRefused() async throws {
        try await TestPostgres.withSchema { pool async throws in
            _ = try await Migrator(migrations: [first]).migrate(on: pool)
            let edited = Migration(version: 1, name: "one", sql: first.sql + " -- edited")
            let error = await #expect(throws: WeicheError.self) {
                try await Migrator(migrations: [edited, second]).migrate(on: pool)
            }
            #expect(error?.code == .schemaMismatch)
            #expect(error?.message.contains("changed after it was applied") == true)
            await #expect(throws: WeicheError.self) { try await Migrator(migrations: [edited]).verifyCurrent(on: pool) }
            // Nothing of the refused run was applied.
            #expect(try await tables(pool) == ["one", "schema_migrations"])
        }
    }

    @Test func unknownNewerMigrationIsRefused() async throws {
        try await TestPostgres.withSchema { pool async throws in
            _ = try await Migrator(migrations: [first, second]).migrate(on: pool)
            let error = await #expect(throws: WeicheError.self) { try await Migrator(migrations: [first]).migrate(on: pool) }
            #expect(error?.message.contains("does not know") == true)
        }
    }

    @Test func failingMigrationLeavesNothingBehind() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE two (id int); SELEC 1;")
            await #expect(throws: WeicheError.self) { try await Migrator(migrations: [first, broken]).migrate(on: pool) }
            let exists = try await pool.query("SELECT to_regclass('schema_migrations') IS NULL").single().decode(Bool.self, at: 0)
            #expect(exists, "the whole run was one transaction, rolled back")
        }
    }

    @Test func unmigratedDatabaseIsReportedAsSuch() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let error = await #expect(throws: WeicheError.self) { try await Migrator().verifyCurrent(on: pool) }
            #expect(error?.message.contains("weiche migrate") == true)
            let status = try await Migrator().status(on: pool)
            #expect(status.appliedVersion == 0)
            #expect(status.problem == nil)
        }
    }
}
