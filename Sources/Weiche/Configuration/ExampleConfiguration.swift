/// The county's configuration: every agency and every flow of the domain, with the legal bases
/// as the county words them. `Deploy/weiche.example.json` is this with the root `/srv/weiche`
/// (a test keeps the two equal), `weiche config example` prints it, and `weiche demo` runs it.
public enum ExampleConfiguration {
    public struct Retry: Sendable {
        public var baseSeconds: Double
        public var capSeconds: Double
        public var maxAttempts: Int

        public init(baseSeconds: Double, capSeconds: Double, maxAttempts: Int) {
            self.baseSeconds = baseSeconds
            self.capSeconds = capSeconds
            self.maxAttempts = maxAttempts
        }

        public static let production = Retry(baseSeconds: 30, capSeconds: 3600, maxAttempts: 12)
    }

    /// The agencies: id, display name, adapter.
    public static let agencies: [(id: String, name: String, adapter: String)] = [
        ("massarbeit", "MaßArbeit – kommunales Jobcenter", "massarbeit-json"),
        ("auslaenderbehoerde", "Ausländerbehörde", "abh-xml"),
        ("jugendamt", "Jugendamt", "jugendamt-csv"),
        ("gesundheitsamt", "Gesundheitsamt", "fhir-r4"),
        ("psychosoziale-beratung", "Psychosoziale Beratungsstelle", "fhir-r4"),
    ]

    /// Where an agency drops its documents for Weiche, and where Weiche delivers to it.
    public static func inboundDirectory(root: String, agency: String) -> String { "\(root)/\(agency)/to-weiche" }
    public static func outboundDirectory(root: String, agency: String) -> String { "\(root)/\(agency)/from-weiche" }

    public static let notice =
        "Zweckbindung nach § 78 SGB X: Die übermittelten Sozialdaten dürfen nur zu dem Zweck verarbeitet werden, zu dem sie übermittelt wurden."

    /// The configuration file's text, with agency directories under `root`.
    public static func json(root: String, retry: Retry = .production) -> String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func number(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(value)
        }
        let agencyLines = agencies.map { agency in
            """
                { "id": \(quoted(agency.id)), "name": \(quoted(agency.name)), "adapter": \(quoted(agency.adapter)),
                  "inbound": { "kind": "directory", "path": \(quoted(inboundDirectory(root: root, agency: agency.id))) },
                  "outbound": { "kind": "directory", "path": \(quoted(outboundDirectory(root: root, agency: agency.id))) } }
            """
        }
        let routeLines = routes.map { route in
            var line = """
                { "from": \(quoted(route.from)), "type": \(quoted(route.type)), "to": \(quoted(route.to)),
                  "legalBasis": \(quoted(route.legalBasis)),
                  "purpose": \(quoted(route.purpose)),
                  "categories": [\(route.categories.map(quoted).joined(separator: ", "))]
            """
            if route.consentRequired { line += ",\n      \"consentRequired\": true" }
            if let notice = route.notice { line += ",\n      \"notice\": \(quoted(notice))" }
            return line + " }"
        }
        return """
            {
              "$comment": "Weiche: all flows of the county. Check with 'weiche config check', see Docs/Configuration.md.",
              "retry": { "baseSeconds": \(number(retry.baseSeconds)), "capSeconds": \(number(retry.capSeconds)), "maxAttempts": \(retry.maxAttempts) },
              "agencies": [
            \(agencyLines.joined(separator: ",\n"))
              ],
              "routes": [
            \(routeLines.joined(separator: ",\n"))
              ]
            }

            """
    }

    struct Route {
        var from: String, type: String, to: String, legalBasis: String, purpose: String, categories: [String]
        var consentRequired = false
        var notice: String? = nil
    }

    static let routes: [Route] = [
        Route(from: "massarbeit", type: "kinderbetreuung.anfrage", to: "jugendamt",
              legalBasis: "§ 69 Abs. 1 Nr. 1 SGB X i.V.m. § 16a Nr. 1 SGB II",
              purpose: "Betreuungsplatz für ein Kind, damit ein Elternteil eine Arbeit aufnehmen kann",
              categories: ["identity", "contact", "case", "family"]),
        Route(from: "jugendamt", type: "kinderbetreuung.ergebnis", to: "massarbeit",
              legalBasis: "§ 69 Abs. 1 Nr. 1 SGB X", purpose: "Ergebnis der Anfrage nach einem Betreuungsplatz",
              categories: ["identity", "case", "family"]),
        Route(from: "massarbeit", type: "aufenthalt.auskunft-anfrage", to: "auslaenderbehoerde",
              legalBasis: "§ 71 Abs. 2 SGB X / § 90 AufenthG", purpose: "Auskunft über Aufenthaltstitel und Erlaubnis zur Erwerbstätigkeit",
              categories: ["identity", "case"]),
        Route(from: "auslaenderbehoerde", type: "aufenthalt.auskunft", to: "massarbeit",
              legalBasis: "§ 90 AufenthG", purpose: "Auskunft über Aufenthaltstitel und Erlaubnis zur Erwerbstätigkeit",
              categories: ["identity", "case", "residence"]),
        Route(from: "auslaenderbehoerde", type: "integrationskurs.verpflichtung", to: "massarbeit",
              legalBasis: "§ 44a AufenthG, § 88a AufenthG", purpose: "Mitteilung der Verpflichtung zur Teilnahme am Integrationskurs",
              categories: ["identity", "case", "residence"]),
        Route(from: "massarbeit", type: "gesundheit.begutachtung-auftrag", to: "gesundheitsamt",
              legalBasis: "§ 50 Abs. 1 SGB II; Art. 9 Abs. 2 lit. a DSGVO", purpose: "Ärztliche Begutachtung der Erwerbsfähigkeit",
              categories: ["identity", "contact", "case", "health"], consentRequired: true),
        Route(from: "gesundheitsamt", type: "gesundheit.begutachtung-ergebnis", to: "massarbeit",
              legalBasis: "§ 50 Abs. 1 Satz 2 SGB II", purpose: "Ergebnis der Begutachtung: Leistungsvermögen ohne Diagnosen",
              categories: ["identity", "case", "capacity"]),
        Route(from: "massarbeit", type: "beratung.zuweisung", to: "psychosoziale-beratung",
              legalBasis: "§ 16a Nr. 3 SGB II; Art. 9 Abs. 2 lit. a DSGVO", purpose: "Psychosoziale Betreuung zur Eingliederung in Arbeit",
              categories: ["identity", "contact", "case", "health"], consentRequired: true, notice: notice),
        Route(from: "jugendamt", type: "uebergang.jugendberufshilfe", to: "massarbeit",
              legalBasis: "§ 69 SGB X; § 65 SGB VIII (mit Einwilligung)", purpose: "Übergang von der Schule in Ausbildung (Jugendberufsagentur)",
              categories: ["identity", "contact", "case", "education", "youth-welfare"], consentRequired: true),
    ]
}
