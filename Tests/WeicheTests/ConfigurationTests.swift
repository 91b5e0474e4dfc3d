import Foundation
import Testing
import Weiche
import WeicheCore

@Suite("Loading and checking the gateway configuration")
struct ConfigurationTests {
    static let adapters: Set<String> = ["massarbeit-json", "abh-xml", "jugendamt-csv", "fhir-r4"]

    /// All flows of DOMAIN.md, as an operator would configure them.
    static let valid = #"""
        {
          "$comment": "test configuration",
          "retry": { "baseSeconds": 30, "capSeconds": 3600, "maxAttempts": 10 },
          "agencies": [
            { "id": "massarbeit", "name": "MaßArbeit", "adapter": "massarbeit-json",
              "inbound": { "kind": "directory", "path": "/srv/weiche/massarbeit/out" },
              "outbound": { "kind": "directory", "path": "/srv/weiche/massarbeit/in" } },
            { "id": "auslaenderbehoerde", "name": "Ausländerbehörde", "adapter": "abh-xml",
              "inbound": { "kind": "directory", "path": "/srv/weiche/abh/out" },
              "outbound": { "kind": "http", "url": "https://abh.example/weiche", "timeoutSeconds": 15 },
              "retry": { "maxAttempts": 20 } },
            { "id": "jugendamt", "name": "Jugendamt", "adapter": "jugendamt-csv",
              "inbound": { "kind": "directory", "path": "/srv/weiche/ja/out" },
              "outbound": { "kind": "directory", "path": "/srv/weiche/ja/in" } },
            { "id": "gesundheitsamt", "name": "Gesundheitsamt", "adapter": "fhir-r4",
              "inbound": { "kind": "directory", "path": "/srv/weiche/ga/out" },
              "outbound": { "kind": "directory", "path": "/srv/weiche/ga/in" } },
            { "id": "psychosoziale-beratung", "name": "Psychosoziale Beratung", "adapter": "fhir-r4",
              "outbound": { "kind": "directory", "path": "/srv/weiche/psb/in" } }
          ],
          "routes": [
            { "from": "massarbeit", "type": "kinderbetreuung.anfrage", "to": "jugendamt",
              "legalBasis": "§ 69 Abs. 1 Nr. 1 SGB X i.V.m. § 16a Nr. 1 SGB II", "purpose": "Kinderbetreuung für Arbeitsaufnahme",
              "categories": ["identity", "contact", "case", "family"] },
            { "from": "jugendamt", "type": "kinderbetreuung.ergebnis", "to": "massarbeit",
              "legalBasis": "§ 69 Abs. 1 Nr. 1 SGB X", "purpose": "Ergebnis der Platzanfrage",
              "categories": ["identity", "case", "family"] },
            { "from": "massarbeit", "type": "aufenthalt.auskunft-anfrage", "to": "auslaenderbehoerde",
              "legalBasis": "§ 71 Abs. 2 SGB X / § 90 AufenthG", "purpose": "Aufenthaltsstatus", "categories": ["identity", "case"] },
            { "from": "auslaenderbehoerde", "type": "aufenthalt.auskunft", "to": "massarbeit",
              "legalBasis": "§ 90 AufenthG", "purpose": "Auskunft Aufenthaltsstatus", "categories": ["identity", "residence"] },
            { "from": "auslaenderbehoerde", "type": "integrationskurs.verpflichtung", "to": "massarbeit",
              "legalBasis": "§ 44a AufenthG, § 88a AufenthG", "purpose": "Integrationskursverpflichtung",
              "categories": ["identity", "residence"] },
            { "from": "massarbeit", "type": "gesundheit.begutachtung-auftrag", "to": "gesundheitsamt",
              "legalBasis": "§ 50 Abs. 1 SGB II; Art. 9 Abs. 2 DSGVO", "purpose": "Begutachtung der Erwerbsfähigkeit",
              "categories": ["identity", "contact", "case", "health"] },
            { "from": "gesundheitsamt", "type": "gesundheit.begutachtung-ergebnis", "to": "massarbeit",
              "legalBasis": "§ 50 Abs. 1 Satz 2 SGB II", "purpose": "Ergebnis der Begutachtung", "categories": ["identity", "case", "capacity"] },
            { "from": "massarbeit", "type": "beratung.zuweisung", "to": "psychosoziale-beratung",
              "legalBasis": "§ 16a Nr. 3 SGB II", "purpose": "Psychosoziale Beratung",
              "categories": ["identity", "contact", "case", "health"], "consentRequired": true,
              "notice": "Zweckbindung nach § 78 SGB X" },
            { "from": "jugendamt", "type": "uebergang.jugendberufshilfe", "to": "massarbeit",
              "legalBasis": "§ 69 SGB X; § 65 SGB VIII", "purpose": "Übergang Schule–Beruf",
              "categories": ["identity", "contact", "education", "youth-welfare"] }
          ]
        }
        """#

    private func load(_ text: String) throws -> GatewayConfiguration {
        try GatewayConfiguration.load(Array(text.utf8), knownAdapters: Self.adapters)
    }

    private func problems(_ text: String) -> [ConfigurationProblem] {
        do {
            _ = try load(text)
            return []
        } catch let error as ConfigurationError {
            return error.problems
        } catch {
            return [ConfigurationProblem(path: "?", message: "\(error)")]
        }
    }

    @Test func validConfigurationOfAllFlowsLoads() throws {
        let configuration = try load(Self.valid)
        #expect(configuration.agencies.count == 5)
        #expect(configuration.routes.count == 9)
        let massarbeit = AgencyID("massarbeit")!, gesundheitsamt = AgencyID("gesundheitsamt")!
        let health = try #require(configuration.route(
            from: massarbeit, type: ReferralType("gesundheit.begutachtung-auftrag")!, to: gesundheitsamt))
        #expect(health.consentRequired, "health data implies consent")
        #expect(health.categories == [.identity, .contact, .case, .health])
        let result = try #require(configuration.route(
            from: gesundheitsamt, type: ReferralType("gesundheit.begutachtung-ergebnis")!, to: massarbeit))
        #expect(!result.categories.contains(.health), "diagnoses never reach the job centre")
        #expect(!result.consentRequired)
        #expect(configuration.retryPolicy(for: AgencyID("auslaenderbehoerde")!).maxAttempts == 20)
        #expect(configuration.retryPolicy(for: massarbeit).maxAttempts == 10)
        #expect(configuration.agency(AgencyID("auslaenderbehoerde")!)?.outbound
            == .http(url: URL(string: "https://abh.example/weiche")!, timeout: .seconds(15)))
        #expect(configuration.sha256 == SHA256.hash(Array(Self.valid.utf8)).hexString)
        #expect(configuration.sha256.count == 64)
    }

    @Test func everyProblemIsReportedWithItsPath() {
        let broken = #"""
            {
              "agencies": [
                { "id": "massarbeit", "name": "MaßArbeit", "adapter": "massarbeit-jsn",
                  "inbound": { "kind": "http", "url": "https://x.example" } },
                { "id": "Jugendamt", "name": "", "adapter": "jugendamt-csv",
                  "outbound": { "kind": "ftp", "path": "/x" } },
                { "id": "massarbeit", "name": "again", "adapter": "massarbeit-json", "colour": "blue" }
              ],
              "routes": [
                { "from": "massarbeit", "type": "kinderbetreuung.anfrage", "to": "jugendamt",
                  "legalBasis": "§ 69 SGB X", "purpose": "x", "categories": ["identity", "helth", 7] },
                { "from": "nobody", "type": "Kinder Betreuung", "to": "massarbeit",
                  "legalBasis": "§ 69 SGB X", "categories": ["health"], "consentRequired": false }
              ],
              "retry": { "baseSeconds": 60, "capSeconds": 10, "maxAttempts": 0 }
            }
            """#
        let found = problems(broken)
        let paths = found.map(\.path)
        for expected in [
            "$.agencies[0].adapter",  // misspelt adapter
            "$.agencies[0].inbound.kind",  // http is not inbound
            "$.agencies[1].id",  // uppercase id
            "$.agencies[1].name",  // empty
            "$.agencies[1].outbound.kind",  // unknown kind
            "$.agencies[2].id",  // duplicate
            "$.agencies[2].colour",  // unknown setting
            "$.routes[0].to",  // unknown agency
            "$.routes[0].categories[1]",  // misspelt category
            "$.routes[0].categories[2]",  // not a string
            "$.routes[1].from",  // unknown agency
            "$.routes[1].type",  // malformed type
            "$.routes[1].purpose",  // missing
            "$.routes[1].consentRequired",  // health without consent
            "$.retry.capSeconds",  // cap < base
            "$.retry.maxAttempts",  // out of range
        ] {
            #expect(paths.contains(expected), "expected a problem at \(expected); got \(paths)")
        }
        let category = found.first { $0.path == "$.routes[0].categories[1]" }
        #expect(category?.message.contains("did you mean 'health'") == true)
        let adapter = found.first { $0.path == "$.agencies[0].adapter" }
        #expect(adapter?.message.contains("massarbeit-json") == true, "lists the known adapters")
    }

    @Test(arguments: [
        ("", "$"), ("{", "$"), ("[]", "$"), ("null", "$"), (#"{"routes": []}"#, "$.agencies"),
        (#"{"agencies": {}, "routes": []}"#, "$.agencies"), (#"{"agencies": [], "routes": []}"#, "$.agencies"),
    ])
    func malformedDocumentsAreRefusedAtTheRightPlace(text: String, path: String) {
        let found = problems(text)
        #expect(!found.isEmpty)
        #expect(found.contains { $0.path == path }, "\(found)")
    }

    @Test func oversizedFileIsRefusedUnread() {
        let bytes = [UInt8](repeating: 0x20, count: GatewayConfiguration.maximumFileSize + 1)
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.load(bytes, knownAdapters: []) }
    }

    @Test func arbitraryBytesNeverCrashTheLoader() {
        var generator = SystemRandomNumberGenerator()
        for length in [1, 2, 7, 64, 513] {
            for _ in 0..<50 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                #expect(throws: ConfigurationError.self) { try GatewayConfiguration.load(bytes, knownAdapters: Self.adapters) }
            }
        }
        // Truncations of a valid file: never a crash, always a precise refusal or a load.
        let valid = Array(Self.valid.utf8)
        for cut in stride(from: 0, to: valid.count, by: 97) {
            _ = try? GatewayConfiguration.load(Array(valid.prefix(cut)), knownAdapters: Self.adapters)
        }
    }
}
