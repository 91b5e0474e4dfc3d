import Foundation
import Testing
import WeichePostgres
import Weiche
import WeicheTesting

@Suite("config check, submit, serve and status, run as a user runs them")
struct GatewayCommandTests {
    static let subjectKey = "test-subject-key-0123456789abcdef0123456789abcdef"

    /// Two agencies on directory channels under a new directory, and a configuration file.
    struct Site {
        let root: URL
        var config: String { root.appendingPathComponent("weiche.json").path }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-site-\(UUID().uuidString.prefix(8))")
            for box in ["ma/out", "ma/in", "ja/out", "ja/in"] {
                try FileManager.default.createDirectory(at: root.appendingPathComponent(box), withIntermediateDirectories: true)
            }
            let json = """
                { "agencies": [
                    { "id": "massarbeit", "name": "MaßArbeit", "adapter": "weiche-json",
                      "inbound": { "kind": "directory", "path": "\(root.path)/ma/out" },
                      "outbound": { "kind": "directory", "path": "\(root.path)/ma/in" } },
                    { "id": "jugendamt", "name": "Jugendamt", "adapter": "weiche-json",
                      "inbound": { "kind": "directory", "path": "\(root.path)/ja/out" },
                      "outbound": { "kind": "directory", "path": "\(root.path)/ja/in" } } ],
                  "routes": [
                    { "from": "massarbeit", "type": "kinderbetreuung.anfrage", "to": "jugendamt",
                      "legalBasis": "§ 69 Abs. 1 Nr. 1 SGB X", "purpose": "Kinderbetreuung", "categories": ["identity", "family"] } ] }
                """
            try Data(json.utf8).write(to: URL(fileURLWithPath: config))
        }

        func referral(_ id: String) -> String {
            """
            {"senderMessageID":"\(id)","type":"kinderbetreuung.anfrage","sender":"massarbeit","recipients":["jugendamt"],
             "createdAt":"2026-01-05T08:00:00Z","legalBasis":"§ 69 SGB X","purpose":"Kita",
             "fields":[{"name":"person.familyName","category":"identity","value":{"text":"Muster"}},
                       {"name":"person.phone","category":"contact","value":{"text":"0151 1234"}}]}
            """
        }

        func files(_ relative: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(relative).path).sorted()
        }
    }

    /// A database URL whose search_path is a fresh, migrated schema.
    func withDatabase(_ body: (String) async throws -> Void) async throws {
        let base = try await TestPostgres.configuration()
        try await TestPostgres.withSchema(migrated: true) { pool async throws in
            let schema = try await pool.query("SELECT current_schema()::text").single().decode(String.self, at: 0)
            try await body(base.connectionString + " options='-c search_path=\(schema)'")
        }
    }

    /// Sends SIGTERM to the `weiche serve` whose command line contains `pattern`, as systemd would.
    func stopServe(matching pattern: String) async throws {
        let found = try await Subprocess.run("/usr/bin/pgrep", ["-f", "--", pattern])
        let pids = found.output.split(separator: "\n").compactMap { pid_t($0) }
        #expect(!pids.isEmpty, "the gateway process was found")
        for pid in pids { kill(pid, SIGTERM) }
    }

    @Test func configCheckPassesAndFails() async throws {
        let site = try Site()
        defer { try? FileManager.default.removeItem(at: site.root) }
        let valid = try await WeicheBinary.run(["config", "check", site.config])
        #expect(valid.status == 0)
        #expect(valid.output.contains("valid — 2 agencies, 1 routes"))

        let broken = site.root.appendingPathComponent("broken.json").path
        try Data(#"{"agencies": [{"id": "X", "name": "x", "adapter": "nope"}], "routes": [{"from": "x"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: broken))
        let result = try await WeicheBinary.run(["config", "check", broken])
        #expect(result.status == 1)
        #expect(result.output.contains("$.agencies[0].id"))
        #expect(result.output.contains("$.agencies[0].adapter: unknown adapter 'nope' (known: abh-xml, fhir-r4, jugendamt-csv, massarbeit-json, weiche-json)"))
        #expect(result.output.contains("$.routes[0].type: is missing"))

        let missing = try await WeicheBinary.run(["config", "check", "/nonexistent.json"])
        #expect(missing.status == 2)
        #expect(missing.lines.count == 1)
    }

    /// Deploy/weiche.example.json configures every flow of the domain, passes `config check`,
    /// and is exactly what `weiche config example` prints (so the two cannot drift apart).
    @Test func theDeployedExampleConfiguresEveryFlowAndPassesTheCheck() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Deploy/weiche.example.json")
        let checked = try await WeicheBinary.run(["config", "check", file.path])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("valid — 5 agencies, 9 routes"))
        let printed = try await WeicheBinary.run(["config", "example"])
        #expect(printed.status == 0)
        #expect(printed.output == String(decoding: try Data(contentsOf: file), as: UTF8.self),
                "regenerate it: swift run weiche config example > Deploy/weiche.example.json")
        let configuration = try GatewayConfiguration.load([UInt8](try Data(contentsOf: file)), knownAdapters: ["massarbeit-json", "abh-xml", "jugendamt-csv", "fhir-r4"])
        let flows = Set(configuration.routes.map { "\($0.from) \($0.type) \($0.to)" })
        #expect(flows == [
            "massarbeit kinderbetreuung.anfrage jugendamt", "jugendamt kinderbetreuung.ergebnis massarbeit",
            "massarbeit aufenthalt.auskunft-anfrage auslaenderbehoerde", "auslaenderbehoerde aufenthalt.auskunft massarbeit",
            "auslaenderbehoerde integrationskurs.verpflichtung massarbeit", "massarbeit gesundheit.begutachtung-auftrag gesundheitsamt",
            "gesundheitsamt gesundheit.begutachtung-ergebnis massarbeit", "massarbeit beratung.zuweisung psychosoziale-beratung",
            "jugendamt uebergang.jugendberufshilfe massarbeit",
        ])
        let result = try #require(configuration.routes.first { $0.type.rawValue == "gesundheit.begutachtung-ergebnis" })
        #expect(!result.categories.contains(.health), "diagnoses never reach the job centre")
        #expect(configuration.routes.first { $0.type.rawValue == "beratung.zuweisung" }?.notice?.contains("§ 78 SGB X") == true)
    }

    @Test func submitServeOnceAndStatus() async throws {
        let site = try Site()
        defer { try? FileManager.default.removeItem(at: site.root) }
        try await withDatabase { url in
            let env = ["WEICHE_DATABASE_URL": url, "WEICHE_CONFIG": site.config, "WEICHE_SUBJECT_KEY": Self.subjectKey]
            let file = site.root.appendingPathComponent("r.json")
            try Data(site.referral("ma-1").utf8).write(to: file)

            let submitted = try await WeicheBinary.run(["submit", "--from", "massarbeit", "--json", file.path], environment: env)
            #expect(submitted.status == 0, "\(submitted.output)")
            let results = try JSONSerialization.jsonObject(with: Data(submitted.output.utf8)) as? [[String: Any]]
            let messages = results?.first?["messages"] as? [[String: Any]]
            let messageID = try #require(messages?.first?["messageId"] as? String)
            #expect(messages?.first?["duplicate"] as? Bool == false)

            let pending = try await WeicheBinary.run(["status"], environment: env)
            #expect(pending.output.contains("jugendamt"))
            #expect(pending.output.contains("due now"))

            let served = try await WeicheBinary.run(["serve", "--once"], environment: env)
            #expect(served.status == 0, "\(served.output)")
            #expect(served.output.contains("1 delivered"))
            #expect(try site.files("ja/in") == ["\(messageID).json"])
            let delivered = try String(contentsOf: site.root.appendingPathComponent("ja/in/\(messageID).json"), encoding: .utf8)
            #expect(!delivered.contains("0151 1234"), "contact data is not on the route")

            let status = try await WeicheBinary.run(["status", "--json"], environment: env)
            let report = try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
            let recipients = report?["recipients"] as? [[String: Any]]
            #expect(recipients?.first?["delivered"] as? Int == 1)
            #expect(recipients?.first?["pending"] as? Int == 0)

            let shown = try await WeicheBinary.run(["messages", "show", messageID], environment: env)
            #expect(shown.status == 0, "\(shown.output)")
            #expect(shown.output.contains("to jugendamt: delivered, 1 attempt"))
            #expect(shown.output.contains("removed: person.phone (contact)"))
            #expect(!shown.output.contains("0151 1234"), "no payload")
            let unknown404 = try await WeicheBinary.run(["messages", "show", UUID().uuidString], environment: env)
            #expect(unknown404.status == 1)
            #expect(unknown404.lines.count == 1)
            let malformed = try await WeicheBinary.run(["messages", "show", "not-an-id"], environment: env)
            #expect(malformed.status == 2)

            let again = try await WeicheBinary.run(["submit", "--from", "massarbeit", file.path], environment: env)
            #expect(again.output.contains("repeat, stored before"))
            let unknown = try await WeicheBinary.run(["submit", "--from", "nobody", file.path], environment: env)
            #expect(unknown.status == 2)
            #expect(unknown.lines.count == 1)
        }
    }

    @Test func serveRunsUntilSIGTERMAndPicksUpDroppedFiles() async throws {
        let site = try Site()
        defer { try? FileManager.default.removeItem(at: site.root) }
        try await withDatabase { url in
            let env = ["WEICHE_DATABASE_URL": url, "WEICHE_CONFIG": site.config, "WEICHE_SUBJECT_KEY": Self.subjectKey]
            let server = Task { try await WeicheBinary.run(["serve", "--interval", "0.1", "--worker", "test-serve"], environment: env) }
            try await Task.sleep(for: .milliseconds(800))
            // An agency drops a file: written under a temporary name, then renamed.
            let outbox = site.root.appendingPathComponent("ma/out")
            try Data(site.referral("ma-live").utf8).write(to: outbox.appendingPathComponent(".incoming"))
            try FileManager.default.moveItem(at: outbox.appendingPathComponent(".incoming"), to: outbox.appendingPathComponent("live.json"))
            var delivered: [String] = []
            for _ in 0..<100 where delivered.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                delivered = try site.files("ja/in")
            }
            #expect(delivered.count == 1, "the running gateway delivered the dropped file")
            _ = try await WeicheBinary.run(["status"], environment: env)
            // Stop it as systemd would.
            try await stopServe(matching: "serve --interval 0.1 --worker test-serve")
            let result = try await server.value
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("stopped"))
        }
    }

    @Test func serveSurvivesLosingItsDatabaseConnections() async throws {
        let site = try Site()
        defer { try? FileManager.default.removeItem(at: site.root) }
        try await withDatabase { url in
            let name = "weiche-serve-\(UUID().uuidString.prefix(8))"
            let env = ["WEICHE_DATABASE_URL": url + " application_name=\(name)", "WEICHE_CONFIG": site.config, "WEICHE_SUBJECT_KEY": Self.subjectKey]
            let server = Task { try await WeicheBinary.run(["serve", "--interval", "0.1", "--worker", name], environment: env) }
            // Wait until the gateway is connected (a loaded machine starts it slowly), then cut
            // its connections, as a database restart would.
            var admin = try await TestPostgres.configuration()
            admin.applicationName = "weiche-test-admin"
            let connection = try await PostgresConnection.connect(admin)
            // Running means: it recorded its configuration, the last step before its loop.
            let schema = String(url.split(separator: "search_path=").last!.prefix { $0 != "'" })
            for _ in 0..<200 {
                let started = try await connection.query(
                    "SELECT count(*)::bigint FROM \(identifier: schema).audit_log WHERE kind = 'configuration-applied'")
                    .single().decode(Int.self, at: 0)
                if started > 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(200))
            let cut = try await connection.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = \(name)")
            #expect(try cut.single().decode(Int.self, at: 0) >= 1)
            await connection.close()

            let outbox = site.root.appendingPathComponent("ma/out")
            try Data(site.referral("ma-after-outage").utf8).write(to: outbox.appendingPathComponent(".incoming"))
            try FileManager.default.moveItem(at: outbox.appendingPathComponent(".incoming"), to: outbox.appendingPathComponent("after.json"))
            var delivered: [String] = []
            for _ in 0..<100 where delivered.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                delivered = try site.files("ja/in")
            }
            #expect(delivered.count == 1, "the gateway recovered and delivered")
            try await stopServe(matching: "serve --interval 0.1 --worker \(name)")
            let result = try await server.value
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("trying again in 1 s"), "the outage was reported: \(result.output)")
        }
    }
}
