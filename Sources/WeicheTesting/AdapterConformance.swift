import Foundation
import WeicheCore

/// Checks an ``AgencyAdapter`` against the protocol's implementation requirements.
///
/// Every adapter's tests run it with sample referrals of each type the adapter supports:
///
/// ```swift
/// @Test func conformance() {
///     let findings = AdapterConformance(adapter: MyAdapter(), agency: AgencyID("jugendamt")!, samples: samples).run()
///     #expect(findings.isEmpty, "\(findings)")
/// }
/// ```
///
/// A crash in the adapter ends the test process: that, too, is a failed check.
public struct AdapterConformance: Sendable {
    public let adapter: any AgencyAdapter
    /// The agency whose channel the checked items are taken to come from.
    public let agency: AgencyID
    /// Referrals to encode and decode back: at least one per supported type, each with its
    /// Weiche id set and `sender` equal to `agency`.
    public let samples: [Referral]
    /// How many random byte buffers to feed to `decode`.
    public let randomInputs: Int

    public init(adapter: any AgencyAdapter, agency: AgencyID, samples: [Referral], randomInputs: Int = 300) {
        self.adapter = adapter
        self.agency = agency
        self.samples = samples
        self.randomInputs = randomInputs
    }

    /// One requirement the adapter did not meet.
    public struct Finding: Sendable, CustomStringConvertible {
        public var check: String
        public var detail: String
        public var description: String { "\(check): \(detail)" }
    }

    /// Runs every check and returns what failed (empty: the adapter conforms).
    public func run() -> [Finding] {
        var findings: [Finding] = []
        findings += checkSamplesCoverSupportedTypes()
        findings += checkHostileInputs()
        for sample in samples {
            findings += checkRoundTrip(sample)
            findings += checkTruncations(sample)
        }
        // A route's notice (purpose binding, § 78 SGB X) must travel with every delivery.
        if var noticed = samples.first {
            noticed.notice = "Zweckbindung nach § 78 SGB X: nur für den übermittelten Zweck"
            findings += checkRoundTrip(noticed).map { Finding(check: "notice: \($0.check)", detail: $0.detail) }
        }
        return findings
    }

    func checkSamplesCoverSupportedTypes() -> [Finding] {
        let covered = Set(samples.map(\.type))
        return adapter.supportedTypes.subtracting(covered).sorted().map {
            Finding(check: "samples", detail: "no sample referral of supported type \($0)")
        }
    }

    /// Arbitrary and hostile bytes: no crash, at least one result, reasons present.
    func checkHostileInputs() -> [Finding] {
        var inputs: [[UInt8]] = [
            [], [0], [0xFF, 0xFE, 0x00], Array("\u{FEFF}".utf8), Array(repeating: 0x5B, count: 100_000),  // [[[[…
            Array(repeating: 0x7B, count: 100_000),  // {{{{…
            Array("\"".utf8), Array("<?xml version=\"1.0\"?>".utf8), Array("a;b;c\n\"unterminated".utf8),
            [UInt8](repeating: 0x41, count: 1 << 20), [0xC3, 0x28], [0xED, 0xA0, 0x80],
        ]
        var generator = SystemRandomNumberGenerator()
        for index in 0..<randomInputs {
            let length = [1, 3, 16, 64, 511, 4096][index % 6]
            inputs.append((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        var findings: [Finding] = []
        for (index, bytes) in inputs.enumerated() {
            let results = adapter.decode(InboundItem(name: "hostile-\(index)", bytes: bytes), from: agency)
            if results.isEmpty {
                findings.append(Finding(check: "hostile input #\(index)", detail: "decode returned nothing; it must return a rejection with a reason"))
            }
            for case .rejected(let rejection) in results where rejection.reason.trimmingCharacters(in: .whitespaces).isEmpty {
                findings.append(Finding(check: "hostile input #\(index)", detail: "a rejection without a reason"))
            }
        }
        return findings
    }

    /// encode → decode gives back the same referral.
    func checkRoundTrip(_ sample: Referral) -> [Finding] {
        let check = "round trip of \(sample.type)"
        let document: OutboundDocument
        do {
            document = try adapter.encode(sample)
        } catch {
            return [Finding(check: check, detail: "encode refused it: \(error)")]
        }
        var findings: [Finding] = []
        if let id = sample.id, !document.fileName.lowercased().contains(id.uuidString.lowercased()) {
            findings.append(Finding(check: check, detail: "the file name '\(document.fileName)' does not carry the Weiche message id"))
        }
        let decoded = adapter.decode(InboundItem(name: document.fileName, bytes: document.bytes), from: agency)
        let referrals = decoded.compactMap { if case .referral(let referral) = $0 { referral } else { nil } }
        guard referrals.count == 1, decoded.count == 1 else {
            return findings + [Finding(check: check, detail: "decoding the encoded bytes gave \(decoded.count) results, \(referrals.count) referrals: \(decoded.map(Self.summary))")]
        }
        var expected = sample
        var actual = referrals[0]
        expected.id = nil
        actual.id = nil
        if actual.sender != agency {
            findings.append(Finding(check: check, detail: "the decoded referral names \(actual.sender) as sender, not the channel's agency \(agency)"))
        }
        if actual != expected {
            findings.append(Finding(check: check, detail: Self.difference(expected, actual)))
        }
        return findings
    }

    /// Truncated and corrupted encodings: no crash, and rejections never quote the sample's
    /// values (not even six characters of one).
    func checkTruncations(_ sample: Referral) -> [Finding] {
        guard let document = try? adapter.encode(sample) else { return [] }
        let fragments = sample.fields.flatMap { Self.texts(in: $0.value) }.flatMap(Self.fragments)
        var variants: [(String, [UInt8])] = []
        let step = max(1, document.bytes.count / 25)
        for cut in stride(from: 0, to: document.bytes.count, by: step) {
            variants.append(("truncated at \(cut) bytes", Array(document.bytes.prefix(cut))))
        }
        for position in [0, document.bytes.count / 3, document.bytes.count / 2, document.bytes.count - 1] where position >= 0 {
            var corrupted = document.bytes
            corrupted[position] = corrupted[position] == 0xFF ? 0x00 : 0xFF
            variants.append(("byte \(position) corrupted", corrupted))
        }
        variants.append(("with garbage appended", document.bytes + Array("\u{0}<>;\"{".utf8)))
        var findings: [Finding] = []
        for (variant, bytes) in variants {
            let results = adapter.decode(InboundItem(name: "damaged", bytes: bytes), from: agency)
            for case .rejected(let rejection) in results where fragments.contains(where: rejection.description.contains) {
                findings.append(Finding(
                    check: "\(sample.type) \(variant)",
                    detail: "the rejection quotes a field value; reasons must name fields, not values"))
            }
        }
        return findings
    }

    /// Every six-character window of a value (the whole value if shorter, from four characters).
    private static func fragments(of text: String) -> [String] {
        let characters = Array(text)
        guard characters.count > 6 else { return characters.count >= 4 ? [text] : [] }
        return (0...(characters.count - 6)).map { String(characters[$0..<($0 + 6)]) }
    }

    private static func texts(in value: FieldValue) -> [String] {
        switch value {
        case .text(let text), .day(let text): [text]
        case .list(let values): values.flatMap(texts)
        case .integer, .boolean: []
        }
    }

    private static func summary(_ item: DecodedItem) -> String {
        switch item {
        case .referral(let referral): "referral \(referral.type)"
        case .receipt: "receipt"
        case .rejected(let rejection): "rejected (\(rejection))"
        }
    }

    /// Names what differs, by field name and envelope key only.
    private static func difference(_ expected: Referral, _ actual: Referral) -> String {
        var differences: [String] = []
        if expected.senderMessageID != actual.senderMessageID { differences.append("senderMessageID") }
        if expected.type != actual.type { differences.append("type") }
        if expected.recipients != actual.recipients { differences.append("recipients") }
        if abs(expected.createdAt.timeIntervalSince(actual.createdAt)) > 0.0005 { differences.append("createdAt") }
        if expected.legalBasis != actual.legalBasis { differences.append("legalBasis") }
        if expected.purpose != actual.purpose { differences.append("purpose") }
        if expected.consentReference != actual.consentReference { differences.append("consentReference") }
        if expected.inReplyTo != actual.inReplyTo { differences.append("inReplyTo") }
        let expectedFields = Dictionary(expected.fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let actualFields = Dictionary(actual.fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in Set(expectedFields.keys).union(actualFields.keys).sorted() where expectedFields[name] != actualFields[name] {
            differences.append("field \(name)")
        }
        return differences.isEmpty
            ? "the decoded referral differs from the original (field order or precision)"
            : "the decoded referral differs in: \(differences.joined(separator: ", "))"
    }
}
