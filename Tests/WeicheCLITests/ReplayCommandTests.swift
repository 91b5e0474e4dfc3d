import Foundation
import Testing
import Weiche
import WeichePostgres
import WeicheTesting

@Suite("weiche replay and dead-letter, run as an operator runs them")
struct ReplayCommandTests {
    static let key = "replay-test-subject-key-0123456789abcdef0123456789"

    /// A site whose Jugendamt was down: `count` referrals ended as dead letters (one attempt
    /// each), then its directory is back. Runs `body` with the environment and a database pool.
    func withDeadLetters(
        _ count: Int, _ body: (GatewayCommandTests.Site, [String: String], PostgresConnectionPool) async throws -> Void
    ) async throws {
        let site = try GatewayCommandTests.Site()
        defer { try? FileManager.default.removeItem(at: site.root) }
        var json = try String(contentsOfFile: site.config, encoding: .utf8)
        json = json.replacingOccurrences(of: "{ \"agencies\"", with: "{ \"retry\": { \"maxAttempts\": 1 }, \"agencies\"")
        try json.write(toFile: site.config, atomically: true, encoding: .utf8)
        let base = try await TestPostgres.configuration()
        try await TestPostgres.withSchema(migrated: true, maxConnections: 2) { pool async throws in
            let schema = try await pool.query("SELECT current_schema()::text").single().decode(String.self, at: 0)
            let env = ["WEICHE_DATABASE_URL": base.connectionString + " options='-c search_path=\(schema)'", "WEICHE_CONFIG": site.config,
                       "WEICHE_SUBJECT_KEY": Self.key, "USER": "tester"]
            for index in 0..<count {
                try Data(site.referral("ma-\(index)").utf8).write(to: site.root.appendingPathComponent("ma/out/r\(index).json"))
            }
            try FileManager.default.removeItem(at: site.root.appendingPathComponent("ja/in"))
            let served = try await WeicheBinary.run(["serve", "--once"], environment: env)
            #expect(served.status == 0, "\(served.output)")
            let failed = try await pool.query("SELECT count(*)::bigint FROM delivery WHERE state = 'failed'").single().decode(Int.self, at: 0)
            #expect(failed == count)
            try FileManager.default.createDirectory(at: site.root.appendingPathComponent("ja/in"), withIntermediateDirectories: true)
            try await body(site, env, pool)
        }
    }

    /// Everything in the tables, as one digest.
    static func digest(_ pool: PostgresConnectionPool) async throws -> String {
        try await pool.query("""
            SELECT md5(concat_ws('|',
                (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM message t),
                (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM delivery t),
                (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM delivery_attempt t),
                (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM audit_log t)))
            """).single().decode(String.self, at: 0)
    }

    static func tree(_ root: URL) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        var entries: [String] = []
        while let path = enumerator?.nextObject() as? String {
            let data = (try? Data(contentsOf: root.appendingPathComponent(path))) ?? Data()
            entries.append("\(path) \(SHA256.hash(Array(data)).hexString)")
        }
        return entries.sorted()
    }

    @Test func replayingFiveHundredDeadLettersDeliversEachOnceAndKeepsTheOriginals() async throws {
        try await withDeadLetters(500) { site, env, pool in
            let originals = try await pool.query("""
                SELECT md5(string_agg(d::text || coalesce((SELECT string_agg(a::text, ',') FROM delivery_attempt a WHERE a.delivery_id = d.id), ''), ',' ORDER BY d.id))
                FROM delivery d
                """).single().decode(String.self, at: 0)

            // A dry run lists what would happen and changes nothing at all.
            let before = (try await Self.digest(pool), try Self.tree(site.root))
            let dry = try await WeicheBinary.run(["replay", "--state", "failed", "--to", "jugendamt", "--reason", "Server wieder da", "--dry-run"], environment: env)
            #expect(dry.status == 0, "\(dry.output)")
            #expect(dry.output.contains("500 deliveries: 500 replay. (dry run: nothing was changed)"), "\(dry.output)")
            #expect(dry.output.contains("allowed as before"))
            let after = (try await Self.digest(pool), try Self.tree(site.root))
            #expect(before.0 == after.0, "the database is unchanged")
            #expect(before.1 == after.1, "the directories are unchanged")

            let unconfirmed = try await WeicheBinary.run(["replay", "--state", "failed", "--to", "jugendamt", "--reason", "Server wieder da"], environment: env)
            #expect(unconfirmed.status == 2 && unconfirmed.lines.count == 1 && unconfirmed.output.contains("--yes"), "\(unconfirmed.output)")

            let replay = try await WeicheBinary.run(
                ["replay", "--state", "failed", "--to", "jugendamt", "--reason", "Server wieder da", "--as", "M. Weber", "--yes"], environment: env)
            #expect(replay.status == 0, "\(replay.output)")
            #expect(replay.output.contains("Replay done: 500 replayed, 500 delivered."), "\(replay.output)")
            #expect(try site.files("ja/in").count == 500)

            let originalsAfter = try await pool.query("""
                SELECT md5(string_agg(d::text || coalesce((SELECT string_agg(a::text, ',') FROM delivery_attempt a WHERE a.delivery_id = d.id), ''), ',' ORDER BY d.id))
                FROM delivery d WHERE replay_of IS NULL
                """).single().decode(String.self, at: 0)
            #expect(originals == originalsAfter, "the original deliveries and their attempts are untouched")
            let (replays, delivered, onceEach) = try await pool.query("""
                SELECT count(*)::bigint, count(*) FILTER (WHERE state = 'delivered')::bigint,
                       bool_and((SELECT count(*) FROM delivery_attempt a WHERE a.delivery_id = d.id AND a.outcome = 'delivered') = 1)
                FROM delivery d WHERE replay_of IS NOT NULL
                """).single().decode((Int, Int, Bool).self)
            #expect(replays == 500 && delivered == 500 && onceEach)
            let events = try await pool.query("""
                SELECT count(*)::bigint FROM audit_log WHERE kind = 'replayed' AND actor = 'person/M. Weber' AND details ->> 'reason' = 'Server wieder da'
                """).single().decode(Int.self, at: 0)
            #expect(events == 500)
            #expect(try await AuditLog(pool: pool).verify().failure == nil)
            let one = try await pool.query("SELECT message_id::text FROM delivery WHERE replay_of IS NOT NULL LIMIT 1").single().decode(String.self, at: 0)
            let shown = try await WeicheBinary.run(["messages", "show", one], environment: env)
            #expect(shown.output.contains("replayed as [") && shown.output.contains("replay of [") && shown.output.contains("by person/M. Weber: Server wieder da"), "\(shown.output)")

            // The same command again finds nothing left to do; nothing is sent twice.
            let again = try await WeicheBinary.run(["replay", "--state", "failed", "--to", "jugendamt", "--reason", "Server wieder da", "--yes"], environment: env)
            #expect(again.status == 0 && again.output.contains("Nothing to replay"), "\(again.output)")
            #expect(try await WeicheBinary.run(["dead-letter", "list"], environment: env).output.contains("No dead letters."))
            let forced = try await WeicheBinary.run(["replay", "--state", "delivered", "--reason", "x", "--dry-run"], environment: env)
            #expect(forced.output.contains("already delivered (--force sends it again)"))
        }
    }

    @Test func aRouteRemovedBeforeTheReplayRefusesAndSendsNothing() async throws {
        try await withDeadLetters(20) { site, env, pool in
            let list = try await WeicheBinary.run(["dead-letter", "list", "--json"], environment: env)
            #expect(list.output.contains("\"count\" : 20"), "\(list.output)")
            let listed = try await WeicheBinary.run(["messages", "list", "--state", "failed", "--to", "jugendamt", "--limit", "5"], environment: env)
            #expect(listed.output.components(separatedBy: "jugendamt:failed").count - 1 == 5, "\(listed.output)")
            #expect(listed.output.contains("(the newest 5; use --limit or narrow the filters for more)"))

            var json = try String(contentsOfFile: site.config, encoding: .utf8)
            json = String(json[..<json.range(of: "\"routes\"")!.lowerBound]) + "\"routes\": [] }"
            try json.write(toFile: site.config, atomically: true, encoding: .utf8)
            let redrive = try await WeicheBinary.run(["dead-letter", "redrive", "--reason", "nochmal", "--yes"], environment: env)
            #expect(redrive.status == 1, "\(redrive.output)")
            #expect(redrive.output.contains("0 replayed, 0 delivered, 20 refused by today's policy, not sent"), "\(redrive.output)")
            #expect(try site.files("ja/in").isEmpty)
            let refused = try await pool.query("SELECT count(*)::bigint FROM audit_log WHERE kind = 'refused' AND details ? 'replayOf'").single().decode(Int.self, at: 0)
            #expect(refused == 20)

            // Reading a payload is on record; without --payload nothing personal is shown.
            let id = try await pool.query("SELECT id::text FROM message LIMIT 1").single().decode(String.self, at: 0)
            let plain = try await WeicheBinary.run(["messages", "show", id], environment: env)
            #expect(plain.status == 0 && !plain.output.contains("Muster"))
            let read = try await WeicheBinary.run(["messages", "show", id, "--payload", "--as", "M. Weber"], environment: env)
            #expect(read.output.contains("PAYLOAD") && read.output.contains("Muster"), "\(read.output)")
            let reads = try await pool.query("SELECT count(*)::bigint FROM audit_log WHERE kind = 'payload-read' AND actor = 'person/M. Weber'").single().decode(Int.self, at: 0)
            #expect(reads == 1)
        }
    }

    @Test func anInterruptedReplayFinishesOnTheSecondRunWithEachDeliveredOnce() async throws {
        try await withDeadLetters(2_000) { site, env, pool in
            let assignments = env.map { "\($0.key)=\"\($0.value.replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: " ")
            let inbox = site.root.appendingPathComponent("ja/in").path
            let script = """
                env -i PATH=/usr/bin:/bin \(assignments) '\(WeicheBinary.path)' replay --state failed --reason "Ausfall" --yes > '\(site.root.path)/first.txt' 2>&1 &
                pid=$!
                while [ "$(ls '\(inbox)' | wc -l)" -lt 400 ]; do sleep 0.02; done
                kill -INT $pid
                wait $pid
                echo "exit=$?"
                """
            let first = try await Subprocess.run("/bin/sh", ["-c", script])
            let firstOutput = try String(contentsOfFile: site.root.appendingPathComponent("first.txt").path, encoding: .utf8)
            #expect(first.output.contains("exit=130"), "\(first.output) \(firstOutput)")
            #expect(firstOutput.contains("Interrupted after"), "\(firstOutput)")
            let halfway = try site.files("ja/in").count
            #expect(halfway >= 400 && halfway < 2_000, "stopped part-way: \(halfway)")

            let second = try await WeicheBinary.run(["replay", "--state", "failed", "--reason", "Ausfall", "--yes"], environment: env)
            #expect(second.status == 0, "\(second.output)")
            #expect(try site.files("ja/in").count == 2_000)
            let (lineages, onceEach, replays) = try await pool.query("""
                SELECT count(*) FILTER (WHERE replay_of IS NULL)::bigint,
                       bool_and((SELECT count(*) FROM delivery_attempt a JOIN delivery r ON r.id = a.delivery_id
                                 WHERE r.replay_of = d.id AND a.outcome = 'delivered') = 1) FILTER (WHERE replay_of IS NULL),
                       count(*) FILTER (WHERE replay_of IS NOT NULL)::bigint
                FROM delivery d
                """).single().decode((Int, Bool, Int).self)
            #expect(lineages == 2_000 && replays == 2_000 && onceEach, "every message delivered exactly once")
        }
    }

    @Test func replayRacingALiveGatewayNeverDeliversTwice() async throws {
        try await withDeadLetters(300) { site, env, pool in
            let assignments = env.map { "\($0.key)=\"\($0.value.replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: " ")
            let script = """
                env -i PATH=/usr/bin:/bin \(assignments) '\(WeicheBinary.path)' serve --interval 0.05 --worker racing-serve > '\(site.root.path)/serve.txt' 2>&1 &
                serve=$!
                env -i PATH=/usr/bin:/bin \(assignments) '\(WeicheBinary.path)' replay --state failed --reason "Wettlauf" --yes
                echo "replay=$?"
                sleep 1
                kill -TERM $serve
                wait $serve
                """
            let run = try await Subprocess.run("/bin/sh", ["-c", script])
            #expect(run.output.contains("replay=0"), "\(run.output)")
            let (replays, attempts, delivered) = try await pool.query("""
                SELECT count(*)::bigint, (SELECT count(*) FROM delivery_attempt a JOIN delivery r ON r.id = a.delivery_id WHERE r.replay_of IS NOT NULL)::bigint,
                       count(*) FILTER (WHERE state = 'delivered')::bigint
                FROM delivery WHERE replay_of IS NOT NULL
                """).single().decode((Int, Int, Int).self)
            #expect(replays == 300 && delivered == 300)
            #expect(attempts == 300, "one attempt per replay: never two workers on one delivery")
            #expect(try site.files("ja/in").count == 300)
        }
    }

    @Test func usageErrorsSayWhatIsMissing() async throws {
        for (arguments, words) in [
            (["replay", "--state", "failed"], "--reason"), (["replay", "--reason", "x"], "say what to replay"),
            (["replay", "--state", "pending", "--reason", "x"], "--state"), (["replay", "not-a-uuid", "--reason", "x"], "not a message id"),
            (["messages", "list", "--since", "soon"], "--since"), (["dead-letter", "redrive"], "--reason"),
        ] {
            let result = try await WeicheBinary.run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.lines.count == 1 && result.output.contains(words), "\(arguments): \(result.output)")
        }
    }
}
