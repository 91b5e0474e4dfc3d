import Foundation
import Testing
@testable import WeicheCore

@Suite("Text helpers")
struct TextTests {
    /// `isBlank` answers what trimming white space and new lines and asking for emptiness
    /// answers, for every kind of space and for text around it.
    @Test func isBlankAgreesWithTrimming() {
        let spaces: [Unicode.Scalar] = [" ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}", "\u{2007}",
                                        "\u{200A}", "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}"]
        let others: [Unicode.Scalar] = ["a", "ß", "\u{200B}", "\u{FEFF}", "0", "\u{0}", "\u{1C}", "\u{7F}", "\u{1F600}"]
        var generator = SystemRandomNumberGenerator()
        var texts = [""] + (spaces + others).map { String($0) }
        for _ in 0..<2000 {
            let length = Int.random(in: 0...6, using: &generator)
            let pool = Bool.random(using: &generator) ? spaces : spaces + others
            texts.append(String(String.UnicodeScalarView((0..<length).map { _ in pool.randomElement(using: &generator)! })))
        }
        for text in texts {
            #expect(text.isBlank == text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(text.unicodeScalars.map { $0.value })")
        }
    }

    @Test func aUUIDsLowercasedStringIsFoundationsLowercased() {
        let fixed = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
                     UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))]
        for id in fixed + (0..<1000).map({ _ in UUID() }) {
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
    }

    @Test func namesAreTheSameOnlyWithTheSameBytes() {
        #expect("caseworker".isSameName(as: "caseworker"))
        #expect("person.familyName".isSameName(as: String("xperson.familyName".dropFirst())))
        #expect(!"caseworker".isSameName(as: "caseWorker"))
        #expect(!"caseworker".isSameName(as: "caseworke"))
        #expect(!"".isSameName(as: " "))
        // Canonically equivalent, as `==` finds, but not the same bytes, as JSON names compare.
        #expect("\u{212A}" == "K" && !"\u{212A}".isSameName(as: "K"))
    }

    /// `UUID(parsing:)` reads every id `UUID(uuidString:)` reads as a well-formed id, in any
    /// case, to the same UUID, and refuses ids with a character changed, added, removed or
    /// moved — also where Foundation's `sscanf` lets a space, a sign or a short group through.
    @Test func parsingAUUIDAgreesWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        let characters: [Character] = ["0", "9", "a", "f", "A", "F", "g", "G", "-", " ", "ä", "\u{0}", "{", "x"]
        var texts = ["", "-", "00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
                     "0000000000000000000000000000000000000", "00000000-0000-0000-0000-0000000000000", "{00000000-0000-0000-0000-000000000000}"]
        for _ in 0..<3000 {
            var text = Array(UUID().uuidString)
            if Bool.random(using: &generator) { text = Array(String(text).lowercased()) }
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: text[Int.random(in: 0..<text.count, using: &generator)] = characters.randomElement(using: &generator)!
            case 1: text.insert(characters.randomElement(using: &generator)!, at: Int.random(in: 0...text.count, using: &generator))
            case 2: text.remove(at: Int.random(in: 0..<text.count, using: &generator))
            case 3: text.swapAt(Int.random(in: 0..<text.count, using: &generator), Int.random(in: 0..<text.count, using: &generator))
            default: break
            }
            texts.append(String(text))
        }
        func isWellFormed(_ text: String) -> Bool {
            let utf8 = Array(text.utf8)
            return utf8.count == 36 && utf8.indices.allSatisfy { index in
                [8, 13, 18, 23].contains(index) ? utf8[index] == UInt8(ascii: "-") : Character(UnicodeScalar(utf8[index])).isHexDigit
            }
        }
        var wellFormed = 0
        for text in texts {
            let ours = UUID(parsing: text)
            #expect((ours != nil) == isWellFormed(text), "\(text)")
            if let ours {
                wellFormed += 1
                #expect(ours == UUID(uuidString: text), "\(text)")
            }
        }
        #expect(wellFormed > 1000)
        #expect(UUID(uuidString: "327687ff-7 20-4ea1-891f-7fefbf78a731") != nil && UUID(parsing: "327687ff-7 20-4ea1-891f-7fefbf78a731") == nil)
    }
}

@Suite("ISO 8601 times: the same dates as Foundation's styles")
struct ISO8601TimeTests {
    static func foundation(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    @Test func readsWhatFoundationReadsAsFoundationReadsIt() async {
        var generator = SystemRandomNumberGenerator()
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var fast = 0, oneApart = 0
        for round in 0..<20_000 {
            if round % 500 == 0 { await Task.yield() }  // a long loop: let other tests' tasks in
            let year = Int.random(in: 1583...9999, using: &generator), month = Int.random(in: 1...12, using: &generator)
            let day = Int.random(in: 1...31, using: &generator)
            var text = "\(year)-\(two(month))-\(two(day))T\(two(Int.random(in: 0...23, using: &generator))):"
                + "\(two(Int.random(in: 0...59, using: &generator))):\(two(Int.random(in: 0...59, using: &generator)))"
            let digits = Int.random(in: 0...9, using: &generator)
            if digits > 0 { text += "." + String((0..<digits).map { _ in "0123456789".randomElement(using: &generator)! }) }
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: text += "Z"
            default:
                let minutes = Int.random(in: 0...(14 * 60), using: &generator)
                text += (Bool.random(using: &generator) ? "+" : "-") + two(minutes / 60) + ":" + two(minutes % 60)
            }
            let ours = ISO8601Time.fastParse(text)
            if ours != nil { fast += 1 }
            // The same Date, or (in about one of 20,000 random times with a fraction) the next
            // Double beside it: Foundation adds the fraction in another order.
            func agrees(_ date: Date?) -> Bool {
                guard let date, let foundation = Self.foundation(text) else { return date == Self.foundation(text) }
                let (ours, theirs) = (date.timeIntervalSinceReferenceDate, foundation.timeIntervalSinceReferenceDate)
                return ours == theirs || ours.nextUp == theirs || ours.nextDown == theirs
            }
            #expect(ours == nil || agrees(ours), "\(text)")
            #expect(agrees(ISO8601Time.parse(text)), "\(text)")
            if let ours, ours != Self.foundation(text) { oneApart += 1 }
        }
        #expect(fast > 15_000, "the usual form is read without Foundation")
        #expect(oneApart < 10, "one unit in the last place apart stays rare")
    }

    /// The time found once where the two differ by one unit in the last place.
    @Test func aTimeOneUnitApartFromFoundation() throws {
        let text = "1864-11-24T14:29:50.6213336-07:40"
        let (ours, theirs) = (try #require(ISO8601Time.parse(text)), try #require(Self.foundation(text)))
        #expect(abs(ours.timeIntervalSince(theirs)) < 0.000_001)
    }

    @Test(arguments: [
        "2026-01-05T09:00:00.250+01:00", "2026-01-05T09:00:00Z", "2024-02-29T23:59:59.999999999-14:00",
        "2026-02-30T09:00:00Z", "2026-01-05T24:00:00Z", "2026-01-05T09:00:60Z", "2026-01-05t09:00:00Z", "2026-01-05T09:00:00+0100",
        "2026-01-05T09:00:00+23:59", "2026-01-05T09:00:00+14:01", "1582-10-10T00:00:00Z", "0001-01-01T00:00:00Z",
        "2026-01-05T09:00:00.Z", "2026-01-05 09:00:00Z", "2026-01-05T09:00:00.123z", "2026-01-05T09:00:00.1234567890Z",
        "2026-01-05T09:00:00", "2026-01-05", "", "２０２６-01-05T09:00:00Z", "2026-01-05T09:00:00+01:00 ",
    ])
    func agreesWithFoundationOnTheUnusual(_ text: String) {
        #expect(ISO8601Time.parse(text) == Self.foundation(text))
    }

    /// `format` writes what `Date.ISO8601FormatStyle(includingFractionalSeconds: true)` writes,
    /// before 1583 and after 9999 included, except for a time from 1583 to 9999 within half a
    /// microsecond below a millisecond: that is the millisecond to the store (which keeps
    /// microseconds), and is written as it, where Foundation writes the one before.
    @Test func writesWhatFoundationWrites() async {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        var intervals: [Double] = [0, -0.25, 1.9996, -1e-7, 978_307_200, -12_219_292_800, -12_219_292_801, 253_402_300_799.999, 253_402_300_800]
        for index in 0..<20_000 {
            var interval = Double.random(in: -13_000_000_000...260_000_000_000, using: &generator)
            if index % 3 == 0 { interval = Double.random(in: 0...4_000_000_000, using: &generator) }
            if index % 5 == 0 { interval = (interval * 1000).rounded() / 1000 }
            if index % 7 == 0 { interval = interval.rounded(.down) + 0.9995 + Double.random(in: -0.0001...0.0001, using: &generator) }
            intervals.append(interval)
        }
        for (round, interval) in intervals.enumerated() {
            if round % 500 == 0 { await Task.yield() }  // a long loop: let other tests' tasks in
            let date = Date(timeIntervalSince1970: interval)
            let reference = date.timeIntervalSinceReferenceDate
            let fraction = reference - reference.rounded(.down)
            let belowNextMillisecond = (fraction * 1000).rounded(.up) / 1000 - fraction
            let expected: String
            let foundation = date.formatted(style)
            if belowNextMillisecond > 0, belowNextMillisecond < 0.000_000_5, let year = Int(foundation.prefix(4)), (1583...9999).contains(year) {
                // Foundation on the time moved just past the millisecond (by a microsecond, or
                // by one unit in the last place where a Double holds no microseconds).
                expected = Date(timeIntervalSinceReferenceDate: reference + max(0.000_001, reference.ulp)).formatted(style)
            } else {
                expected = foundation
            }
            #expect(ISO8601Time.format(date) == expected, "\(interval)")
        }
    }

    /// A time read with milliseconds is written with the same milliseconds, and as the store
    /// gives it back (cutting them from the `Double` once wrote `.123` as `.122`).
    @Test func timesReadWithMillisecondsAreWrittenAsRead() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = ["2026-01-05T08:00:00.123Z", "2026-01-05T08:00:00.999Z", "1999-12-31T23:59:59.001Z"]
        for _ in 0..<5_000 {
            let seconds = Int.random(in: 0..<2_000_000_000, using: &generator)
            let whole = ISO8601Time.format(Date(timeIntervalSince1970: Double(seconds)))
            texts.append(String(whole.prefix(20)) + String(format: "%03d", Int.random(in: 0..<1000, using: &generator)) + "Z")
        }
        for text in texts {
            let date = try #require(ISO8601Time.parse(text))
            #expect(ISO8601Time.format(date) == text)
            let (seconds, microseconds) = ISO8601Time.secondsAndMicroseconds(date)
            #expect(microseconds % 1000 == 0 && (0..<1_000_000).contains(microseconds), "\(text)")
            #expect(abs(seconds + Double(microseconds) / 1_000_000 - date.timeIntervalSinceReferenceDate) < 0.000_001)
        }
    }

    /// Texts longer than any time are refused unread, even where Foundation would read them.
    @Test func refusesTextsLongerThanAnyTime() {
        let long = "2026-01-05T09:00:00." + String(repeating: "1", count: 20) + "Z"
        #expect(long.utf8.count > ISO8601Time.maximumLength)
        #expect(ISO8601Time.parse(long) == nil)
        #expect(ISO8601Time.parse(String(long.prefix(26)) + "Z") != nil)
    }
}
