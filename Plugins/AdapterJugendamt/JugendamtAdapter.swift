import Foundation
import WeicheCore

/// The Jugendamt's legacy CSV export: Windows-1252, `;`-separated, a header row, one referral
/// per row, German dates. A bad row is rejected on its own, by row number and column; a file
/// that is not Windows-1252 text or lacks required columns is rejected whole.
/// See `Docs/formats/jugendamt.md`.
public struct JugendamtAdapter: AgencyAdapter {
    public static let name = "jugendamt-csv"
    public static let maximumSize = 10 << 20

    public var supportedTypes: Set<ReferralType> {
        Set(Self.detailColumns.keys.compactMap { ReferralType($0) })
    }

    public init() {}

    /// A CSV column and the canonical field it carries.
    struct Column {
        var header: String
        var field: String
    }

    /// Envelope columns, in file order. The first eight are required in every file.
    static let required = ["Vorgangsnummer", "Nachrichtentyp", "Empfaenger", "Erstellt", "Name", "Vorname", "Geburtsdatum", "Rechtsgrundlage"]
    static let envelopeHeaders = required + ["Aktenzeichen", "Bezug", "Einwilligung", "Zweck", "WeicheId", "Absender", "Hinweis"]

    /// Subject columns besides Name, Vorname, Geburtsdatum.
    static let subjectColumns = [
        Column(header: "Name", field: "person.familyName"), Column(header: "Vorname", field: "person.givenName"),
        Column(header: "Geburtsdatum", field: "person.birthDate"), Column(header: "Staatsangehoerigkeit", field: "person.nationality"),
        Column(header: "Anschrift", field: "person.address"), Column(header: "Telefon", field: "person.phone"),
        Column(header: "Aktenzeichen", field: "caseNumber"), Column(header: "Sachbearbeitung", field: "caseworker.name"),
        Column(header: "SachbearbeitungTelefon", field: "caseworker.phone"),
    ]

    /// The type-specific columns of each type the Jugendamt sends or receives.
    static let detailColumns: [String: [Column]] = [
        "kinderbetreuung.anfrage": [
            Column(header: "AlterKinder", field: "details.childrenAges"), Column(header: "StundenProWoche", field: "details.hoursPerWeek"),
            Column(header: "Beginn", field: "details.startDate"), Column(header: "Hinweise", field: "details.notes"),
        ],
        "kinderbetreuung.ergebnis": [
            Column(header: "Ergebnis", field: "details.result"), Column(header: "Einrichtung", field: "details.facility"),
            Column(header: "Beginn", field: "details.startDate"), Column(header: "StundenProWoche", field: "details.hoursPerWeek"),
        ],
        "uebergang.jugendberufshilfe": [
            Column(header: "Schule", field: "details.school"), Column(header: "Schulabgang", field: "details.schoolLeavingDate"),
            Column(header: "Abschluss", field: "details.qualification"),
            Column(header: "Jugendhilfemassnahme", field: "details.youthWelfareMeasure"), Column(header: "Hinweise", field: "details.notes"),
        ],
    ]

    /// The Jugendamt's words for the catalogue's choices.
    static let choiceWords: [String: String] = ["angeboten": "offered", "kein Platz": "none", "in Pruefung": "in-review"]

    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    /// Built once: making a calendar per referral was most of the CSV writer's time.
    static let berlinCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = berlin
        return calendar
    }()

    // MARK: - Decoding

    public func decode(_ item: InboundItem, from agency: AgencyID) -> [DecodedItem] {
        guard item.bytes.count <= Self.maximumSize else {
            return [.rejected(Rejection(reason: "the file has \(item.bytes.count) bytes; at most \(Self.maximumSize) are accepted"))]
        }
        // Windows-1252 text with umlauts is practically never valid UTF-8; UTF-8 text with
        // non-ASCII characters always is. Such a file was exported in the wrong encoding.
        if item.bytes.contains(where: { $0 >= 0x80 }), String(validating: item.bytes, as: UTF8.self) != nil {
            return [.rejected(Rejection(reason: "the file is UTF-8, not Windows-1252: export it as Windows-1252 (ANSI)"))]
        }
        let text: String
        switch Windows1252.decode(item.bytes) {
        case .success(let decoded): text = decoded
        case .failure(let failure):
            return [.rejected(Rejection(reason: "not valid Windows-1252 text (byte \(failure.offset) is undefined there)"))]
        }
        let (records, unterminated) = CSV.parse(text)
        guard let header = records.first else { return [.rejected(Rejection(reason: "the file is empty: expected a header row"))] }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let missing = Self.required.filter { !columns.contains($0) }
        guard missing.isEmpty else {
            return [.rejected(Rejection(position: "row 1", reason: "required columns missing: \(missing.joined(separator: ", "))"))]
        }
        let known = Set(Self.envelopeHeaders + Self.subjectColumns.map(\.header) + Self.detailColumns.values.flatMap { $0.map(\.header) })
        if let unknown = columns.first(where: { !known.contains($0) }) {
            return [.rejected(Rejection(position: "row 1", field: unknown, reason: "unknown column"))]
        }
        if let duplicate = columns.first(where: { column in columns.filter { $0 == column }.count > 1 }) {
            return [.rejected(Rejection(position: "row 1", field: duplicate, reason: "column appears twice"))]
        }
        var results: [DecodedItem] = []
        for (index, record) in records.enumerated().dropFirst() {
            let row = "row \(index + 1)"
            guard record.fields.count == columns.count else {
                results.append(.rejected(Rejection(position: row, reason: "has \(record.fields.count) fields, the header has \(columns.count)")))
                continue
            }
            let values = Dictionary(uniqueKeysWithValues: zip(columns, record.fields))
            switch referral(values, row: row, from: agency) {
            case .success(let referral): results.append(.referral(referral))
            case .failure(let rejection): results.append(.rejected(rejection))
            }
        }
        if let unterminated {
            results.append(.rejected(Rejection(
                position: "row \(records.count + 1)", reason: "a quoted field opened on line \(unterminated.line) is never closed")))
        }
        if results.isEmpty { results.append(.rejected(Rejection(reason: "the file has a header but no rows"))) }
        return results
    }

    private func referral(_ values: [String: String], row: String, from agency: AgencyID) -> Result<Referral, Rejection> {
        func value(_ column: String) -> String? {
            values[column].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func fail(_ column: String, _ reason: String) -> Result<Referral, Rejection> {
            .failure(Rejection(position: row, field: column, reason: reason))
        }
        for column in Self.required where value(column) == nil { return fail(column, "is empty") }
        guard let type = ReferralType(value("Nachrichtentyp")!), let spec = ReferralCatalogue.spec(for: type),
            let columns = Self.detailColumns[type.rawValue]
        else { return fail("Nachrichtentyp", "unknown message type") }
        var recipients: [AgencyID] = []
        for part in value("Empfaenger")!.split(separator: ",") {
            guard let id = AgencyID(part.trimmingCharacters(in: .whitespaces)) else { return fail("Empfaenger", "not an agency id") }
            recipients.append(id)
        }
        guard let created = Self.dateTime(value("Erstellt")!) else { return fail("Erstellt", "not a time (dd.MM.yyyy HH:mm)") }
        var raw: [String: (column: String, text: String)] = [:]
        for column in Self.subjectColumns + columns {
            if let text = value(column.header) { raw[column.field] = (column.header, text) }
        }
        for (header, _) in values where value(header) != nil {
            let belongs = Self.envelopeHeaders.contains(header) || Self.subjectColumns.contains { $0.header == header }
                || columns.contains { $0.header == header }
            if !belongs { return fail(header, "is not a column of \(type)") }
        }
        var fields: [ReferralField] = []
        for field in spec.fields {
            guard let (column, text) = raw[field.name] else { continue }
            guard let converted = Self.value(text, as: field.kind) else {
                return fail(column, "must be \(Self.describe(field.kind))")
            }
            fields.append(ReferralField(field.name, field.category, converted))
        }
        let referral = Referral(
            id: value("WeicheId").flatMap(UUID.init(parsing:)), senderMessageID: value("Vorgangsnummer")!, type: type, sender: agency,
            recipients: recipients, createdAt: created, legalBasis: value("Rechtsgrundlage")!, purpose: value("Zweck") ?? "",
            consentReference: value("Einwilligung"), inReplyTo: value("Bezug"), notice: value("Hinweis"), fields: fields)
        if let problem = ReferralCatalogue.problems(in: referral).first {
            let column = (Self.subjectColumns + columns).first { $0.field == problem.field }?.header ?? problem.field
            return .failure(Rejection(position: row, field: column, reason: problem.reason))
        }
        return .success(referral)
    }

    static func value(_ text: String, as kind: ReferralCatalogue.Field.Kind) -> FieldValue? {
        switch kind {
        case .text: return .text(text)
        case .integer: return Int(text).map(FieldValue.integer)
        case .boolean: return ["ja": true, "nein": false][text.lowercased()].map(FieldValue.boolean)
        case .day: return isoDay(text).map(FieldValue.day)
        case .integerList:
            let numbers = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            return numbers.isEmpty || numbers.contains(nil) ? nil : .list(numbers.map { .integer($0!) })
        case .choice(let allowed):
            return choiceWords[text].flatMap { allowed.contains($0) ? FieldValue.text($0) : nil }
        }
    }

    /// `dd.MM.yyyy` to `yyyy-MM-dd`, if it is a real day.
    static func isoDay(_ text: String) -> String? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2, parts[2].count == 4 else { return nil }
        let iso = "\(parts[2])-\(parts[1])-\(parts[0])"
        return ReferralCatalogue.isDay(iso) ? iso : nil
    }

    /// `dd.MM.yyyy HH:mm`, local time in Germany.
    static func dateTime(_ text: String) -> Date? {
        let halves = text.split(separator: " ", omittingEmptySubsequences: true)
        guard halves.count == 2, let day = isoDay(String(halves[0])) else { return nil }
        let clock = halves[1].split(separator: ":")
        guard clock.count == 2, clock.allSatisfy({ $0.count == 2 }), let hour = Int(clock[0]), let minute = Int(clock[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        let ymd = day.split(separator: "-").compactMap { Int($0) }
        return berlinCalendar.date(from: DateComponents(year: ymd[0], month: ymd[1], day: ymd[2], hour: hour, minute: minute))
    }

    static func describe(_ kind: ReferralCatalogue.Field.Kind) -> String {
        switch kind {
        case .text: "text"
        case .integer: "a whole number"
        case .boolean: "ja or nein"
        case .day: "a date (dd.MM.yyyy)"
        case .integerList: "whole numbers separated by commas"
        case .choice: "one of: \(choiceWords.keys.sorted().joined(separator: ", "))"
        }
    }
}
