import Foundation
import Testing
import Weiche
import WeichePostgres
import WeicheTesting

@Suite("weiche audit, run as an auditor runs it")
struct AuditCommandTests {
    static let key = "auditor-test-subject-key-0123456789abcdef0123456789"

    /// The demo's people, as written in the agencies' documents.
    static let people = [
        ("Müller", "Sabine", "1991-02-28"), ("Haddad", "Rami", "1987-11-03"), ("Größer", "Jürgen", "1979-11-03"),
        ("Schäfer", "Monika", "1984-06-12"), ("Yılmaz", "Ayşe", "1993-09-14"), ("Krause", "Dieter", "1970-01-30"),
        ("Nguyễn", "Thị Lan", "1992-07-19"), ("Weiß", "Lukas", "2008-05-03"),
    ]

    @Test func auditorsFindEveryTransferOfAPersonAndProveTheLogIntact() async throws {
        let base = try await TestPostgres.configuration()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-audit-cli-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let demo = try await WeicheBinary.run(
            ["demo", "--directory", directory.appendingPathComponent("demo").path, "--keep-schema"],
            environment: ["WEICHE_DATABASE_URL": base.connectionString, "WEICHE_SUBJECT_KEY": Self.key])
        #expect(demo.status == 0, "\(demo.output)")
        let schema = try #require(demo.output.firstMatch(of: /Kept the schema (weiche_demo_[0-9a-f]+)/)?.1).description
        var scoped = base
        scoped.searchPath = [schema]
        let pool = PostgresConnectionPool(configuration: scoped, maxConnections: 2)
        let env = ["WEICHE_DATABASE_URL": base.connectionString, "WEICHE_DATABASE_SCHEMA": schema, "WEICHE_SUBJECT_KEY": Self.key]
        do {
            // The log names nobody in clear.
            var clear: [String] = []
            for (family, given, born) in Self.people {
                let parts = born.split(separator: "-")
                for text in [family, given, born, "\(parts[2]).\(parts[1]).\(parts[0])"] {
                    let hits = try await pool.query("SELECT count(*)::bigint FROM audit_log a WHERE strpos(a::text, \(text)) > 0").single().decode(Int.self, at: 0)
                    if hits > 0 { clear.append(text) }
                }
            }
            #expect(clear.isEmpty, "clear text in the audit log: \(clear)")

            // A subject query finds exactly the messages about that person, across all flows.
            for (family, given, born) in Self.people {
                let truth = try await pool.query("""
                    SELECT id::text FROM message m
                    WHERE EXISTS (SELECT FROM json_array_elements(m.referral -> 'fields') f
                                  WHERE f ->> 'name' = 'person.birthDate' AND f -> 'value' ->> 'day' = \(born))
                      AND EXISTS (SELECT FROM json_array_elements(m.referral -> 'fields') f
                                  WHERE f ->> 'name' = 'person.givenName' AND f -> 'value' ->> 'text' = \(given))
                    """).map { try $0.decode(String.self, at: 0) }
                #expect(!truth.isEmpty, "\(family) has messages")
                let result = try await WeicheBinary.run(["audit", "query", "--subject", "\(family), \(given), \(born)", "--json", "--as", "dpo"], environment: env)
                #expect(result.status == 0, "\(result.output)")
                let entries = try JSONDecoder().decode([Entry].self, from: Data(result.output.utf8))
                #expect(Set(entries.compactMap(\.messageId)) == Set(truth), "\(family)")
                #expect(entries.contains { $0.event == "received" })
            }
            let logged = try await pool.query("SELECT count(*)::bigint FROM audit_log WHERE kind = 'audit-query' AND actor = 'person/dpo' AND details ? 'subject'")
                .single().decode(Int.self, at: 0)
            #expect(logged == Self.people.count, "every query is on record, with the subject only as its hash")

            let removed = try await WeicheBinary.run(["audit", "query", "--event", "minimised", "--csv"], environment: env)
            #expect(removed.lines.first == "seq,at,event,actor,message,agencies,subject,details,hash")
            #expect(removed.output.contains("details.diagnoses (health)"))

            // Verify, anchor, export, and check the export with no database at all.
            let verify = try await WeicheBinary.run(["audit", "verify"], environment: env)
            #expect(verify.status == 0 && verify.output.hasPrefix("OK: audit log intact"), "\(verify.output)")
            let anchors = directory.appendingPathComponent("anchors.jsonl").path
            #expect(try await WeicheBinary.run(["audit", "anchor", "--output", anchors], environment: env).status == 0)
            let anchored = try await WeicheBinary.run(["audit", "verify", "--anchor", anchors], environment: env)
            #expect(anchored.output.contains("1 anchor present and unchanged"), "\(anchored.output)")
            let export = directory.appendingPathComponent("export.jsonl").path
            #expect(try await WeicheBinary.run(["audit", "export", export], environment: env).status == 0)
            let offline = try await WeicheBinary.run(["audit", "verify", "--export", export, "--anchor", anchors],
                                                     environment: ["WEICHE_DATABASE_URL": "postgresql://127.0.0.1:1/none"])
            #expect(offline.status == 0 && offline.output.hasPrefix("OK: export"), "\(offline.output)")

            // Payloads whose retention ended are erased; the log records it and stays intact.
            let messages = try await pool.query("SELECT count(*)::bigint FROM message").single().decode(Int.self, at: 0)
            let dry = try await WeicheBinary.run(["messages", "erase", "--before", "0s", "--reason", "Frist abgelaufen", "--dry-run"], environment: env)
            #expect(dry.output.contains("Would erase the payloads of \(messages) messages"), "\(dry.output)")
            let erase = try await WeicheBinary.run(["messages", "erase", "--before", "0s", "--reason", "Frist abgelaufen", "--as", "M. Weber"], environment: env)
            #expect(erase.status == 0 && erase.output.contains("Erased the payloads of \(messages) messages"), "\(erase.output)")
            let left = try await pool.query("""
                SELECT (SELECT count(*) FROM message WHERE referral IS NOT NULL) + (SELECT count(*) FROM delivery WHERE content IS NOT NULL)
                """).single().decode(Int.self, at: 0)
            #expect(left == 0)
            let erasedEvents = try await WeicheBinary.run(["audit", "query", "--event", "payload-erased", "--json"], environment: env)
            let erasedEntries = try JSONDecoder().decode([Entry].self, from: Data(erasedEvents.output.utf8))
            #expect(erasedEntries.count == messages)
            #expect(try await WeicheBinary.run(["audit", "verify"], environment: env).status == 0, "erasing payloads keeps the log verifiable")

            // A superuser's edit is found, by sequence number.
            try await pool.withConnection { connection in
                try await connection.execute(unsafeSQL: """
                    SET session_replication_role = replica;
                    UPDATE audit_log SET details = details || '{"legalBasis": "nachträglich geändert"}' WHERE seq = 5;
                    RESET session_replication_role
                    """)
            }
            let broken = try await WeicheBinary.run(["audit", "verify", "--json"], environment: env)
            #expect(broken.status == 1)
            #expect(broken.output.contains("\"seq\" : 5"), "\(broken.output)")
        } catch {
            await pool.close()
            _ = try? await Self.drop(schema, base)
            throw error
        }
        await pool.close()
        try await Self.drop(schema, base)
    }

    static func drop(_ schema: String, _ base: PostgresConfiguration) async throws {
        let admin = PostgresConnectionPool(configuration: base, maxConnections: 1)
        try await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
        await admin.close()
    }

    struct Entry: Decodable {
        var seq: Int64
        var event: String
        var messageId: String?
    }

    @Test func aSubjectQueryWithoutTheKeySaysWhatToDo() async throws {
        let result = try await WeicheBinary.run(["audit", "query", "--subject", "Größer, Jürgen, 1979-11-03"],
                                                environment: ["WEICHE_DATABASE_URL": "postgresql://127.0.0.1:1/none"])
        #expect(result.status == 2)
        #expect(result.lines.count == 1)
        #expect(result.output.contains("WEICHE_SUBJECT_KEY"))
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Deploy/weiche.example.json").path
        let serve = try await WeicheBinary.run(["serve", "--once", "--config", example], environment: ["WEICHE_DATABASE_URL": "postgresql://127.0.0.1:1/none"])
        #expect(serve.status == 2, "the gateway does not run without the subject key")
        #expect(serve.lines.count == 1 && serve.output.contains("WEICHE_SUBJECT_KEY"), "\(serve.output)")
        let bad = try await WeicheBinary.run(["audit", "query", "--since", "yesterday"])
        #expect(bad.status == 2 && bad.output.contains("--since"))
    }

    /// Behind a pooler that does not keep sessions, an operator turns prepared statements off;
    /// anything but a number in range is a usage error that names the variable.
    @Test func thePreparedStatementLimitIsReadFromTheEnvironment() async throws {
        let base = try await TestPostgres.configuration()
        let off = try await WeicheBinary.run(["status"], environment: [
            "WEICHE_DATABASE_URL": base.connectionString, "WEICHE_DATABASE_PREPARED_STATEMENTS": "0"])
        #expect(off.status != 2, "\(off.output)")
        for value in ["many", "-1", "1001"] {
            let bad = try await WeicheBinary.run(["status"], environment: [
                "WEICHE_DATABASE_URL": base.connectionString, "WEICHE_DATABASE_PREPARED_STATEMENTS": value])
            #expect(bad.status == 2 && bad.lines.count == 1 && bad.output.contains("WEICHE_DATABASE_PREPARED_STATEMENTS"), "\(bad.output)")
        }
    }
}
