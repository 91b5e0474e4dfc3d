import Testing
import WeicheCore

@Suite("WeicheError")
struct WeicheErrorTests {
    @Test func descriptionIsTheMessageAndCodesCompare() {
        let error = WeicheError(.notFound, "no message 42")
        #expect(error.description == "no message 42")
        #expect(error.code == .notFound)
        #expect(error.code != .conflict)
        #expect(error.file.hasSuffix("WeicheErrorTests.swift"))
    }
}
