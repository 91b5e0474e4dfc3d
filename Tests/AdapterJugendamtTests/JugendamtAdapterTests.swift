@testable import AdapterJugendamt
import Foundation
import Testing
import WeicheCore
import WeicheTesting

@Suite("Jugendamt CSV adapter")
struct JugendamtAdapterTests {
    static let agency = AgencyID("jugendamt")!
    let adapter = JugendamtAdapter()

    static func fixture(_ name: String) throws -> [UInt8] {
        try ReferralSamples.fixture(name, besides: #filePath)
    }

    func decode(_ bytes: [UInt8]) -> [DecodedItem] {
        adapter.decode(InboundItem(name: "export.csv", bytes: bytes), from: Self.agency)
    }

    func referrals(_ items: [DecodedItem]) -> [Referral] {
        items.compactMap { if case .referral(let referral) = $0 { referral } else { nil } }
    }

    func rejections(_ items: [DecodedItem]) -> [Rejection] {
        items.compactMap { if case .rejected(let rejection) = $0 { rejection } else { nil } }
    }

    @Test func windows1252RowsWithQuotesAndLineBreaksDecode() throws {
        let decoded = decode(try Self.fixture("valid.csv"))
        #expect(rejections(decoded).isEmpty, "\(rejections(decoded))")
        let all = referrals(decoded)
        #expect(all.count == 2)
        let result = all[0]
        #expect(result.type.rawValue == "kinderbetreuung.ergebnis")
        #expect(result.senderMessageID == "JA-2026-0017")
        #expect(result.inReplyTo == "2f1c7a52-1b5e-4c0e-9d8a-0d6f5b7e1a01")
        #expect(result[field: "person.familyName"] == .text("Öztürk"))
        #expect(result[field: "person.birthDate"] == .day("1990-02-28"))
        #expect(result[field: "details.result"] == .text("offered"))
        #expect(result[field: "details.facility"] == .text("Kita Sonnenschein; Außenstelle Süd"))
        #expect(result[field: "details.startDate"] == .day("2026-08-01"))
        #expect(result.createdAt == Date(timeIntervalSince1970: 1_768_224_600), "14:30 in Germany in winter is 13:30 UTC")
        let transition = all[1]
        #expect(transition.legalBasis == "§ 69 SGB X; § 65 SGB VIII")
        #expect(transition.consentReference == "EW-JA-2026-3")
        #expect(transition[field: "details.youthWelfareMeasure"] == .text("Hilfe nach § 30 SGB VIII \"Erziehungsbeistand\""))
        #expect(transition[field: "details.notes"] == .text("Mehrzeilig:\nZweite Zeile"))
        #expect(transition.fields.first { $0.name == "details.notes" }?.category == .youthWelfare)
        #expect(transition.fields.first { $0.name == "details.school" }?.category == .education)
    }

    @Test func oneBadRowAmongAHundredIsRejectedAloneNamingRowAndColumn() throws {
        let header = "Vorgangsnummer;Nachrichtentyp;Empfaenger;Erstellt;Name;Vorname;Geburtsdatum;Rechtsgrundlage;Ergebnis"
        var lines = [header]
        for index in 1...100 {
            let birth = index == 50 ? "31.02.1990" : "01.03.1990"
            lines.append("JA-\(index);kinderbetreuung.ergebnis;massarbeit;12.01.2026 14:30;Müller;Jörg;\(birth);§ 69 SGB X;kein Platz")
        }
        let decoded = decode(Array(lines.joined(separator: "\r\n").utf8.map { $0 }).asWindows1252)
        #expect(referrals(decoded).count == 99)
        let rejected = rejections(decoded)
        #expect(rejected.count == 1)
        #expect(rejected.first?.position == "row 51", "the header is row 1")
        #expect(rejected.first?.field == "Geburtsdatum")
        #expect(rejected.first?.description.contains("31.02") == false, "no values in reasons")
    }

    @Test func wrongEncodingsAndMissingColumnsRejectTheWholeFile() throws {
        let utf8 = decode(try Self.fixture("utf8.csv"))
        #expect(utf8.count == 1)
        #expect(rejections(utf8).first?.reason.contains("UTF-8, not Windows-1252") == true)
        let undefined = decode(try Self.fixture("undefined-byte.csv"))
        #expect(rejections(undefined).first?.reason.contains("not valid Windows-1252") == true)
        let missing = decode(try Self.fixture("missing-columns.csv"))
        #expect(missing.count == 1)
        #expect(rejections(missing).first?.reason == "required columns missing: Empfaenger, Erstellt, Vorname, Geburtsdatum, Rechtsgrundlage")
    }

    @Test(arguments: [
        ("Erstellt", "12.01.2026", "not a time"),
        ("Nachrichtentyp", "kinderbetreuung.anfrag", "unknown message type"),
        ("Ergebnis", "vielleicht", "must be one of"),
        ("Empfaenger", "Mass Arbeit", "not an agency id"),
    ])
    func badValuesNameTheirColumn(column: String, value: String, reason: String) {
        var values = ["Vorgangsnummer": "JA-1", "Nachrichtentyp": "kinderbetreuung.ergebnis", "Empfaenger": "massarbeit",
                      "Erstellt": "12.01.2026 14:30", "Name": "N", "Vorname": "V", "Geburtsdatum": "01.01.1990",
                      "Rechtsgrundlage": "x", "Ergebnis": "angeboten"]
        values[column] = value
        let header = values.keys.sorted()
        let text = header.joined(separator: ";") + "\n" + header.map { values[$0]! }.joined(separator: ";") + "\n"
        let rejected = rejections(decode(Array(text.utf8)))
        #expect(rejected.first?.field == column, "\(rejected)")
        #expect(rejected.first?.reason.contains(reason) == true, "\(rejected)")
    }

    @Test func unterminatedQuoteRejectsFromThatRowOn() {
        let text = "Vorgangsnummer;Nachrichtentyp;Empfaenger;Erstellt;Name;Vorname;Geburtsdatum;Rechtsgrundlage;Ergebnis\n"
            + "JA-1;kinderbetreuung.ergebnis;massarbeit;12.01.2026 14:30;N;V;01.01.1990;x;angeboten\n"
            + "JA-2;kinderbetreuung.ergebnis;massarbeit;12.01.2026 14:30;\"N;V;01.01.1990;x;angeboten\n"
        let decoded = decode(Array(text.utf8))
        #expect(referrals(decoded).count == 1)
        #expect(rejections(decoded).first?.reason.contains("never closed") == true)
    }

    @Test func encodingRefusesWhatWindows1252CannotHold() throws {
        let spec = ReferralCatalogue.spec(for: ReferralType("kinderbetreuung.anfrage")!)!
        var referral = Self.sample(spec)
        referral.fields[1] = ReferralField("person.givenName", .identity, .text("Ayşe"))
        #expect(throws: Rejection.self) { try adapter.encode(referral) }
        do {
            _ = try adapter.encode(referral)
        } catch {
            #expect(error.field == "Vorname")
            #expect(!error.description.contains("Ayşe"))
        }
    }

    /// A value with a Windows line break ("\r\n" is one Swift Character, equal to neither
    /// "\r" nor "\n") must be quoted like any other, or it splits the row.
    @Test func aValueWithACRLFLineBreakIsQuotedAndReadBack() throws {
        let spec = ReferralCatalogue.spec(for: ReferralType("kinderbetreuung.anfrage")!)!
        var referral = Self.sample(spec)
        referral.fields[0] = ReferralField("person.familyName", .identity, .text("Erste Zeile\r\nZweite Zeile"))
        let document = try adapter.encode(referral)
        let decoded = decode(document.bytes)
        #expect(rejections(decoded).isEmpty, "\(rejections(decoded))")
        #expect(referrals(decoded).first?[field: "person.familyName"] == .text("Erste Zeile\r\nZweite Zeile"))
    }

    /// `Erstellt` is the Jugendamt's local time (Europe/Berlin), to the minute.
    @Test(arguments: [
        (1_767_600_420.0, "05.01.2026 09:07"),  // 2026-01-05T08:07:00Z, winter time
        (1_782_945_000.0, "02.07.2026 00:30"),  // 2026-07-01T22:30:00Z, summer time, the next day
        (1_774_746_000.0, "29.03.2026 03:00"),  // 2026-03-29T01:00:00Z, the first minute of summer time
    ])
    func theCreationTimeIsWrittenInBerlinTime(seconds: Double, written: String) throws {
        let spec = ReferralCatalogue.spec(for: ReferralType("kinderbetreuung.anfrage")!)!
        var referral = Self.sample(spec)
        referral.createdAt = Date(timeIntervalSince1970: seconds)
        let text = String(decoding: try adapter.encode(referral).bytes, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ";", omittingEmptySubsequences: false) }
        let column = try #require(lines.first?.firstIndex(of: "Erstellt"))
        #expect(lines[1][column] == Substring(written))
    }

    /// The same local time as a Berlin calendar gives, on random times and around the switches.
    @Test func theCreationTimeAgreesWithABerlinCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
        let spec = ReferralCatalogue.spec(for: ReferralType("kinderbetreuung.anfrage")!)!
        var referral = Self.sample(spec)
        var generator = SystemRandomNumberGenerator()
        let switches: [Double] = [1_774_746_000, 1_792_890_000, 1_711_846_800, 1_729_990_800]
        let times = (0..<1500).map { _ in Double.random(in: 0...4_100_000_000, using: &generator) }
            + switches.flatMap { at in [-3601, -60, -1, 0, 1, 59, 60, 3599, 3600].map { at + $0 } }
        for seconds in times {
            referral.createdAt = Date(timeIntervalSince1970: seconds)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: referral.createdAt)
            func two(_ number: Int?) -> String { String(format: "%02d", number ?? -1) }
            let expected = "\(two(parts.day)).\(two(parts.month)).\(parts.year ?? 0) \(two(parts.hour)):\(two(parts.minute))"
            let text = String(decoding: try adapter.encode(referral).bytes, as: UTF8.self)
            #expect(text.contains(";\(expected);"), "\(seconds)")
        }
    }

    /// Days are written `dd.MM.yyyy`; the usual form by its bytes, anything else as before,
    /// by splitting at the hyphens.
    @Test func daysAreWrittenInGermanOrder() {
        func split(_ iso: String) -> String {
            let parts = iso.split(separator: "-")
            return parts.count == 3 ? "\(parts[2]).\(parts[1]).\(parts[0])" : iso
        }
        var generator = SystemRandomNumberGenerator()
        var texts = ["2026-03-01", "2026--3-01", "2026-3-1", "", "-", "2026-03-0ä", "１９９０-01-01"]
        for _ in 0..<3000 {
            let length = Int.random(in: 8...12, using: &generator)
            texts.append(String((0..<length).map { _ in "0123456789--x".randomElement(using: &generator)! }))
        }
        for text in texts {
            #expect(JugendamtAdapter.germanDay(text) == split(text), "\(text)")
        }
        #expect(JugendamtAdapter.germanDay("2026-03-01") == "01.03.2026")
    }

    /// Text is encoded from its UTF-8 bytes as it was scalar by scalar: ASCII, Latin-1, the
    /// typographic characters of 0x80–0x9F, and refusal of everything else (the C1 controls too).
    @Test func windows1252EncodingAgreesWithTheScalarTable() {
        func reference(_ text: String) -> [UInt8]? {
            let high: [UInt32] = [0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
                                  0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178]
            var bytes: [UInt8] = []
            for scalar in text.unicodeScalars {
                if scalar.value < 0x80 || (0xA0...0xFF).contains(scalar.value) {
                    bytes.append(UInt8(scalar.value))
                } else if let index = high.firstIndex(of: scalar.value) {
                    bytes.append(0x80 + UInt8(index))
                } else {
                    return nil
                }
            }
            return bytes
        }
        let pool: [Unicode.Scalar] = ["a", "\u{0}", "\u{7F}", "\u{80}", "\u{81}", "\u{9F}", "\u{A0}", "\u{BF}", "\u{C0}", "ä", "ß", "\u{FF}", "\u{100}",
                                      "€", "„", "“", "‚", "ƒ", "…", "Ÿ", "ş", "ễ", "日", "😀", "\u{FFFD}"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = String(String.UnicodeScalarView((0..<Int.random(in: 0...12, using: &generator)).map { _ in pool.randomElement(using: &generator)! }))
            var bytes: [UInt8] = [0x41]
            let encoded = Windows1252.append(text, to: &bytes)
            #expect(encoded == (reference(text) != nil), "\(text.unicodeScalars.map(\.value))")
            #expect(bytes == [0x41] + (reference(text) ?? []), "\(text.unicodeScalars.map(\.value))")
        }
    }

    /// A referral of `spec`'s type with every field the Jugendamt's format carries.
    static func sample(_ spec: ReferralCatalogue.TypeSpec) -> Referral {
        let carried: Set = ["person.familyName", "person.givenName", "person.birthDate", "person.nationality", "person.address",
                            "person.phone", "caseNumber", "caseworker.name", "caseworker.phone"]
        return ReferralSamples.referral(
            spec, from: agency, to: AgencyID("massarbeit")!, senderMessageID: "JA-2026-\(Int.random(in: 1...9999))",
            carries: { carried.contains($0) || $0.hasPrefix("details.") })
    }

    @Test func conformsForEveryTypeItCarries() {
        let samples = adapter.supportedTypes.sorted().compactMap(ReferralCatalogue.spec(for:)).map(Self.sample)
        let findings = AdapterConformance(adapter: adapter, agency: Self.agency, samples: samples).run()
        #expect(findings.isEmpty, "\(findings)")
    }
}

extension Array where Element == UInt8 {
    /// UTF-8 text of Latin-1 characters re-encoded as Windows-1252 bytes (identical there).
    var asWindows1252: [UInt8] {
        Array(String(decoding: self, as: UTF8.self).unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
    }
}

/// The exact bytes the CSV writer produces for referrals of every type it carries (fixtures in
/// `Fixtures/written/`): quoting, Windows-1252, German days and times, choice words, lists.
/// `WEICHE_WRITE_FIXTURES=1` writes them anew after a deliberate change of the format.
@Suite("Jugendamt CSV adapter: written bytes")
struct JugendamtWrittenBytesTests {
    static func referral(_ type: String, configure: (inout Referral) -> Void = { _ in }) -> Referral {
        let spec = ReferralCatalogue.spec(for: ReferralType(type)!)!
        var referral = ReferralSamples.referral(
            spec, from: AgencyID("massarbeit")!, to: AgencyID("jugendamt")!, senderMessageID: "MA-2026-000042",
            createdAt: Date(timeIntervalSince1970: 1_767_600_420.5),
            text: { "Wert \"\($0.count)\"; äöü ß € „x“ \t" })
        referral.id = UUID(uuidString: "01937a4e-58c0-7d2a-9b3c-4d5e6f708192")!
        referral.inReplyTo = "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
        configure(&referral)
        return referral
    }

    static let cases: [(String, Referral)] = [
        ("anfrage-full", referral("kinderbetreuung.anfrage") {
            $0.notice = "Zweckbindung nach § 78 SGB X"
            $0.recipients.append(AgencyID("kita-verbund")!)
        }),
        ("anfrage-minimal", referral("kinderbetreuung.anfrage") {
            $0.fields = $0.fields.filter { $0.name.hasPrefix("person.") && $0.name != "person.phone" }
            $0.consentReference = nil
            $0.inReplyTo = nil
            $0.createdAt = Date(timeIntervalSince1970: 1_782_945_000)
        }),
        ("ergebnis-choice", referral("kinderbetreuung.ergebnis") {
            $0.fields = $0.fields.map { field in
                switch field.name {
                case "details.result": ReferralField(field.name, field.category, .text("offered"))
                case "caseworker.phone": ReferralField(field.name, field.category, .text("Zeile 1\r\nZeile 2\nZeile 3"))
                default: field
                }
            }
        }),
        ("jugendberufshilfe", referral("uebergang.jugendberufshilfe")),
    ]

    @Test func rowsAreWrittenByteForByteAsBefore() throws {
        for (name, referral) in Self.cases {
            let bytes = try JugendamtAdapter().encode(referral).bytes
            let expected = try ReferralSamples.pinned(bytes, as: "\(name).csv", besides: #filePath)
            #expect(bytes == expected, "\(name): written bytes differ from Fixtures/written/\(name).csv")
        }
    }
}
