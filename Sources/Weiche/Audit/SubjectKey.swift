import Foundation
import WeicheCore

/// Turns a person's stable identifier into the keyed hash (HMAC-SHA-256) by which the audit
/// log refers to them. The key comes from the environment and is never stored in the
/// database: whoever has the key and a person's identifier finds all their transfers (GDPR
/// Art. 15); a leaked log alone reveals no names.
///
/// The identifier is family name, given name and birth date, normalised so that the same
/// person is found however an agency's system spelled the case or the diacritics: letters are
/// lowercased, accents removed (`Größer` → `grosser`, `Ayşe` → `ayse`), `ß` becomes `ss`,
/// runs of spaces become one. Different spellings beyond that (`Müller`/`Mueller`) are
/// different identifiers.
public struct SubjectKey: Sendable {
    private let mac: HMACSHA256.Keyed

    /// The shortest key accepted, in bytes.
    public static let minimumLength = 32

    /// A key from a secret of at least ``minimumLength`` bytes.
    public init?(secret: [UInt8]) {
        guard secret.count >= Self.minimumLength else { return nil }
        mac = HMACSHA256.Keyed(secret)
    }

    /// A random key, for a demo or a test that needs one only while it runs.
    public static func random() -> SubjectKey {
        var generator = SystemRandomNumberGenerator()
        return SubjectKey(secret: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    /// The key from `WEICHE_SUBJECT_KEY` (the secret itself) or `WEICHE_SUBJECT_KEY_FILE` (a
    /// file holding it), or `nil` when neither is set.
    public static func fromEnvironment(_ environment: [String: String]) throws -> SubjectKey? {
        if let secret = environment["WEICHE_SUBJECT_KEY"], !secret.isEmpty {
            guard let key = SubjectKey(secret: Array(secret.utf8)) else {
                throw WeicheError(.invalidConfiguration, "WEICHE_SUBJECT_KEY must be at least \(minimumLength) bytes long (e.g. 'openssl rand -hex 32')")
            }
            return key
        }
        guard let path = environment["WEICHE_SUBJECT_KEY_FILE"], !path.isEmpty else { return nil }
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: 4097) else {
            throw WeicheError(.invalidConfiguration, "WEICHE_SUBJECT_KEY_FILE: cannot read \(path)")
        }
        try? handle.close()
        let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard data.count <= 4096, let key = SubjectKey(secret: Array(secret.utf8)) else {
            throw WeicheError(.invalidConfiguration, "WEICHE_SUBJECT_KEY_FILE: \(path) must hold a secret of \(minimumLength) to 4096 bytes")
        }
        return key
    }

    /// The keyed hash of a person, as 64 hexadecimal digits.
    public func subject(_ person: SubjectIdentifier) -> String {
        mac.mac(Array(person.canonical.utf8)).hexString
    }

    /// The keyed hash of the person a referral is about, if it names family name, given name
    /// and birth date.
    public func subject(of referral: Referral) -> String? {
        guard case .text(let family)? = referral[field: "person.familyName"], case .text(let given)? = referral[field: "person.givenName"],
            case .day(let born)? = referral[field: "person.birthDate"]
        else { return nil }
        return subject(SubjectIdentifier(familyName: family, givenName: given, birthDate: born))
    }
}

/// A person's stable identifier: family name, given name, birth date.
public struct SubjectIdentifier: Sendable, Equatable {
    public var familyName: String
    public var givenName: String
    /// `yyyy-MM-dd`.
    public var birthDate: String

    public init(familyName: String, givenName: String, birthDate: String) {
        self.familyName = familyName
        self.givenName = givenName
        self.birthDate = birthDate
    }

    /// Reads `Family name, Given name, birth date` (the date as `yyyy-MM-dd` or `dd.MM.yyyy`).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw WeicheError(.invalidInput, "a subject is written 'Family name, Given name, yyyy-MM-dd' (three parts separated by commas)")
        }
        var date = parts[2]
        let german = date.split(separator: ".")
        if german.count == 3, german[0].count == 2, german[1].count == 2, german[2].count == 4 {
            date = "\(german[2])-\(german[1])-\(german[0])"
        }
        guard ReferralCatalogue.isDay(date) else {
            throw WeicheError(.invalidInput, "the subject's birth date must be yyyy-MM-dd or dd.MM.yyyy")
        }
        self.init(familyName: parts[0], givenName: parts[1], birthDate: date)
    }

    /// What is hashed: a version tag and the normalised parts.
    var canonical: String {
        "weiche-subject/1|\(Self.normalise(familyName))|\(Self.normalise(givenName))|\(birthDate)"
    }

    static func normalise(_ name: String) -> String {
        // ASCII folds to its lower case and nothing else: the same result, without Foundation.
        if name.utf8.allSatisfy({ $0 < 0x80 }) { return foldedASCII(name) }
        return foldedWithFoundation(name)
    }

    /// An ASCII name in lower case, its runs of white space (tab, line breaks, vertical tab,
    /// form feed, space) as one space and none at either end: what ``foldedWithFoundation(_:)``
    /// gives for ASCII, byte by byte.
    static func foldedASCII(_ name: String) -> String {
        var folded: [UInt8] = []
        folded.reserveCapacity(name.utf8.count)
        var pendingSpace = false
        for byte in name.utf8 {
            switch byte {
            case 0x09...0x0D, 0x20:
                pendingSpace = !folded.isEmpty
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                if pendingSpace { folded.append(0x20); pendingSpace = false }
                folded.append(byte + 0x20)
            default:
                if pendingSpace { folded.append(0x20); pendingSpace = false }
                folded.append(byte)
            }
        }
        return String(decoding: folded, as: UTF8.self)
    }

    /// The folding for every name: German sharp s and dotless i spelled out, then without
    /// diacritics, case and width differences.
    static func foldedWithFoundation(_ name: String) -> String {
        let folded = name.replacingOccurrences(of: "ß", with: "ss").replacingOccurrences(of: "ẞ", with: "ss")
            .replacingOccurrences(of: "ı", with: "i")
            .folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil)
            .lowercased()
        return folded.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
