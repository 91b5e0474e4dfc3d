import Foundation
import Testing
import Weiche
import WeichePostgres
import WeicheTesting

@Suite("weiche demo, run as a new user runs it")
struct DemoCommandTests {
    /// With no database configured the demo starts the embedded PostgreSQL, runs every flow
    /// and leaves the agencies' directories behind; its schema is gone afterwards.
    @Test func theDemoRunsEveryFlowOnTheEmbeddedDatabase() async throws {
        try await WeicheBinary.withTemporaryHome { home in
            let directory = home.appendingPathComponent("demo")
            let result = try await WeicheBinary.run(["demo", "--directory", directory.path], environment: ["WEICHE_HOME": home.path])
            #expect(result.status == 0, "\(result.output)")
            let output = result.output
            for type in ["kinderbetreuung.anfrage", "kinderbetreuung.ergebnis", "aufenthalt.auskunft-anfrage", "aufenthalt.auskunft:",
                         "integrationskurs.verpflichtung", "gesundheit.begutachtung-auftrag", "gesundheit.begutachtung-ergebnis",
                         "beratung.zuweisung", "uebergang.jugendberufshilfe"] {
                #expect(output.contains(type), "the summary shows \(type)")
            }
            #expect(output.components(separatedBy: "REFUSED").count - 1 == 2, "two refused transfers")
            #expect(output.contains("removed       person.address (contact), person.phone (contact) — not allowed for auslaenderbehoerde"))
            #expect(output.contains("removed       details.diagnoses (health), details.findings (health) — not allowed for massarbeit"))
            #expect(output.contains("delivered on attempt 2 (attempt 1 failed"), "the offline recipient was retried")
            #expect(output.contains("FAILED, dead letter after 1 attempt"), "the unencodable name is a dead letter")
            #expect(output.contains("receipt       psychosoziale-beratung rejected (KEINE-KAPAZITAET)"))
            #expect(output.contains("↳ answered by gesundheit.begutachtung-ergebnis from gesundheitsamt"))
            #expect(output.contains("row 3, field Geburtsdatum"), "the bad CSV row is reported back on its own")
            #expect(output.contains(directory.path), "it says where the directories are")

            // What the job centre received from the health office carries no diagnoses or findings.
            let jobCentre = directory.appendingPathComponent("massarbeit/from-weiche")
            let files = try FileManager.default.contentsOfDirectory(atPath: jobCentre.path)
            #expect(files.count == 8, "\(files)")
            for file in files {
                let text = try String(contentsOf: jobCentre.appendingPathComponent(file), encoding: .utf8)
                for secret in ["M51.2", "Bandscheibe", "Radikulopathie", "diagnoses", "findings"] {
                    #expect(!text.contains(secret), "\(file) must not contain \(secret)")
                }
            }
            let counselling = directory.appendingPathComponent("psychosoziale-beratung/from-weiche")
            let delivered = try FileManager.default.contentsOfDirectory(atPath: counselling.path)
            #expect(delivered.count == 1)
            let bundle = try String(contentsOf: counselling.appendingPathComponent(delivered[0]), encoding: .utf8)
            #expect(bundle.contains("Zweckbindung nach § 78 SGB X"), "the purpose-binding notice travels")
            if FHIRValidator.shouldRun {
                let health = directory.appendingPathComponent("gesundheitsamt/from-weiche")
                let written = try FileManager.default.contentsOfDirectory(atPath: health.path).map { health.appendingPathComponent($0) }
                    + [counselling.appendingPathComponent(delivered[0])]
                #expect(written.count == 2)
                let failures = try await FHIRValidator.validate(written.map { [UInt8](try Data(contentsOf: $0)) })
                #expect(failures.isEmpty, "the Bundles the demo wrote are valid R4: \(failures)")
            }

            // The demo's schema was dropped.
            let configuration = try await EmbeddedPostgres.fromEnvironment(["WEICHE_HOME": home.path]).start()
            let pool = PostgresConnectionPool(configuration: configuration, maxConnections: 1)
            let left = try await pool.query("SELECT count(*)::bigint FROM pg_namespace WHERE nspname LIKE 'weiche_demo_%'")
            #expect(try left[0].decode(Int.self, at: 0) == 0)
            await pool.close()
        }
    }

    @Test func aNonEmptyDirectoryIsRefusedBeforeAnythingHappens() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-demo-busy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("keep".utf8).write(to: directory.appendingPathComponent("mine.txt"))
        let result = try await WeicheBinary.run(["demo", "--directory", directory.path], environment: ["WEICHE_DATABASE_URL": "postgresql://127.0.0.1:1/none"])
        #expect(result.status == 2)
        #expect(result.lines.count == 1)
        #expect(result.output.contains("is not empty"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["mine.txt"])
    }
}
