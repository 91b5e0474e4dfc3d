import Foundation
import Testing
@testable import Weiche

@Suite("Normalising people's names for their keyed hash")
struct SubjectNormalisationTests {
    /// Names in plain ASCII skip Foundation's folding; they must come out exactly as folding
    /// makes them, or a person's hash would change with the spelling of their name.
    @Test func theASCIIShortcutFoldsExactlyAsFoundationDoes() async {
        var generator = SystemRandomNumberGenerator()
        var names = ["Muster", "  MÜLLER  ", "van der  Berg", "O'Neill-Smith", "\tJOHN\nDoe ", "", "A\r\nB", "\u{0B}\u{0C}x\u{1C}\u{1F}y\u{7F} ", " \r\n "]
        for _ in 0..<3000 {
            let length = Int.random(in: 0...12, using: &generator)
            names.append(String((0..<length).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0...127, using: &generator))) }))
        }
        for (round, name) in names.enumerated() {
            if round % 200 == 0 { await Task.yield() }  // a long loop: let other tests' tasks in
            #expect(SubjectIdentifier.normalise(name) == SubjectIdentifier.foldedWithFoundation(name), "\(Array(name.utf8))")
        }
    }
}
