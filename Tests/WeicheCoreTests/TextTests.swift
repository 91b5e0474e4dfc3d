import Foundation
import Testing
import WeicheCore

@Suite("Text helpers")
struct TextTests {
    /// `isBlank` answers what trimming white space and new lines and asking for emptiness
    /// answers, for every kind of space and for text around it.
    @Test func isBlankAgreesWithTrimming() {
        let spaces: [Unicode.Scalar] = [" ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}", "\u{2007}",
                                        "\u{200A}", "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}"]
        let others: [Unicode.Scalar] = ["a", "ß", "\u{200B}", "\u{FEFF}", "0", "\u{0}", "\u{1F600}"]
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
}
