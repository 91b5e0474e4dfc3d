import Foundation
import WeicheCore

/// Sample referrals and fixture files for adapter tests.
public enum ReferralSamples {
    /// A valid referral of `spec`'s type with a value for every catalogue field `carries`
    /// accepts, in catalogue order, for ``AdapterConformance``.
    ///
    /// - Parameter text: the value of a text field, by field name; choose characters the
    ///   format must keep (umlauts, markup characters).
    public static func referral(
        _ spec: ReferralCatalogue.TypeSpec, from sender: AgencyID, to recipient: AgencyID,
        senderMessageID: String = UUID().uuidString.lowercased(), createdAt: Date = Date(timeIntervalSince1970: 1_767_600_000),
        carries: (String) -> Bool = { _ in true }, text: (String) -> String = { "Beispiel \($0) äöü ß" }
    ) -> Referral {
        let fields = spec.fields.filter { carries($0.name) }.map { field -> ReferralField in
            let value: FieldValue = switch field.kind {
            case .text: .text(text(field.name))
            case .integer: .integer(25)
            case .boolean: .boolean(true)
            case .day: .day("2026-03-01")
            case .integerList: .list([.integer(1), .integer(4)])
            case .choice(let values): .text(values.last!)
            }
            return ReferralField(field.name, field.category, value)
        }
        return Referral(
            id: UUID(), senderMessageID: senderMessageID, type: spec.type, sender: sender, recipients: [recipient],
            createdAt: createdAt, legalBasis: "§ 69 SGB X", purpose: "Zweck", consentReference: "EW-1",
            inReplyTo: UUID().uuidString.lowercased(), fields: fields)
    }

    /// The pinned bytes of a written document, `Fixtures/written/<name>` beside the test file
    /// `testFile` (pass `#filePath`), to compare with what a writer produces now. With
    /// `WEICHE_WRITE_FIXTURES=1`, `bytes` are written there first: after a deliberate change of
    /// a format, review the difference.
    public static func pinned(_ bytes: [UInt8], as name: String, besides testFile: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("Fixtures/written/\(name)")
        if ProcessInfo.processInfo.environment["WEICHE_WRITE_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return [UInt8](try Data(contentsOf: url))
    }

    /// The bytes of `name` in the `Fixtures` folder beside the test file `testFile` (pass `#filePath`).
    public static func fixture(_ name: String, besides testFile: String) throws -> [UInt8] {
        let directory = URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("Fixtures")
        return [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}
