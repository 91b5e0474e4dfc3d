import Foundation

/// A Swift value that can be sent as a query parameter, in PostgreSQL's binary format.
///
/// Implementation requirements: `encode(into:)` appends exactly the binary representation of
/// the value for ``postgresType`` (see PostgreSQL's `*send` functions) and nothing else.
public protocol PostgresEncodable: Sendable {
    /// The type the server is told the parameter has.
    var postgresType: PostgresDataType { get }
    /// The type a NULL of this Swift type is sent as, where all its values have one type; `nil`
    /// (the default) leaves it to the server to infer from the statement, which fails where
    /// nothing else gives the parameter a type (`WHERE $1 IS NULL`).
    static var postgresTypeOfNull: PostgresDataType? { get }
    /// Appends the value's binary representation.
    func encode(into buffer: inout [UInt8]) throws(PostgresError)
}

extension PostgresEncodable {
    public static var postgresTypeOfNull: PostgresDataType? { nil }
}

extension FixedWidthInteger {
    @inlinable
    func appendBigEndian(to buffer: inout [UInt8]) {
        withUnsafeBytes(of: bigEndian) { buffer.append(contentsOf: $0) }
    }
}

extension Int: PostgresEncodable {
    public var postgresType: PostgresDataType { .int8 }
    public func encode(into buffer: inout [UInt8]) { Int64(self).appendBigEndian(to: &buffer) }
}

extension Int64: PostgresEncodable {
    public var postgresType: PostgresDataType { .int8 }
    public func encode(into buffer: inout [UInt8]) { appendBigEndian(to: &buffer) }
}

extension Int32: PostgresEncodable {
    public var postgresType: PostgresDataType { .int4 }
    public static var postgresTypeOfNull: PostgresDataType? { .int4 }
    public func encode(into buffer: inout [UInt8]) { appendBigEndian(to: &buffer) }
}

extension Int16: PostgresEncodable {
    public var postgresType: PostgresDataType { .int2 }
    public static var postgresTypeOfNull: PostgresDataType? { .int2 }
    public func encode(into buffer: inout [UInt8]) { appendBigEndian(to: &buffer) }
}

extension Double: PostgresEncodable {
    public var postgresType: PostgresDataType { .float8 }
    public static var postgresTypeOfNull: PostgresDataType? { .float8 }
    public func encode(into buffer: inout [UInt8]) { bitPattern.appendBigEndian(to: &buffer) }
}

extension Bool: PostgresEncodable {
    public var postgresType: PostgresDataType { .bool }
    public static var postgresTypeOfNull: PostgresDataType? { .bool }
    public func encode(into buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
}

extension String: PostgresEncodable {
    public var postgresType: PostgresDataType { .text }
    /// One copy of the contiguous UTF-8 bytes: `append(contentsOf: utf8)` went through the
    /// view's iterator a byte at a time.
    public func encode(into buffer: inout [UInt8]) {
        var text = self
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }
}

extension Array: PostgresEncodable where Element == UInt8 {
    public var postgresType: PostgresDataType { .bytea }
    public static var postgresTypeOfNull: PostgresDataType? { .bytea }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

extension Data: PostgresEncodable {
    public var postgresType: PostgresDataType { .bytea }
    public static var postgresTypeOfNull: PostgresDataType? { .bytea }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

extension UUID: PostgresEncodable {
    public var postgresType: PostgresDataType { .uuid }
    public func encode(into buffer: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }
}

/// PostgreSQL counts timestamps in microseconds from 2000-01-01 00:00 UTC.
enum PostgresTimestamp {
    /// 2000-01-01 relative to Foundation's reference date, 2001-01-01.
    static let epochFromReferenceDate: Double = -31_622_400

    static func microseconds(from date: Date) -> Int64 {
        if date == .distantFuture { return .max }
        if date == .distantPast { return .min }
        let seconds = date.timeIntervalSinceReferenceDate - epochFromReferenceDate
        return Int64((seconds * 1_000_000).rounded(.toNearestOrEven))
    }

    static func date(fromMicroseconds micros: Int64) -> Date {
        if micros == .max { return .distantFuture }
        if micros == .min { return .distantPast }
        let seconds = Double(micros / 1_000_000) + Double(micros % 1_000_000) / 1_000_000
        return Date(timeIntervalSinceReferenceDate: seconds + epochFromReferenceDate)
    }
}

extension Date: PostgresEncodable {
    /// Dates are sent as `timestamptz` with microsecond precision (PostgreSQL's own).
    public var postgresType: PostgresDataType { .timestamptz }
    public func encode(into buffer: inout [UInt8]) {
        PostgresTimestamp.microseconds(from: self).appendBigEndian(to: &buffer)
    }
}

/// A one-dimensional array parameter, for example `WHERE id = ANY(\(PostgresArray(ids)))`.
/// Its elements may be NULL: `PostgresArray(subjects)` with `subjects: [String?]`.
public struct PostgresArray<Element: PostgresArrayElement>: PostgresEncodable {
    /// The elements as they were given: converting `[Element]` to `[Element?]` copied each
    /// array and, when Swift did it implicitly, cast every element dynamically, 1 % of the
    /// gateway's CPU (Docs/Performance.md).
    @usableFromInline enum Storage: Sendable {
        case values([Element])
        case optionals([Element?])
    }

    @usableFromInline var storage: Storage

    public init(_ elements: [Element]) { storage = .values(elements) }
    public init(_ elements: [Element?]) { storage = .optionals(elements) }

    /// The elements, `nil` for NULL.
    public var elements: [Element?] {
        switch storage {
        case .values(let values): values.map(Optional.some)
        case .optionals(let optionals): optionals
        }
    }

    public var postgresType: PostgresDataType { Element.arrayType }
    public static var postgresTypeOfNull: PostgresDataType? { Element.arrayType }

    /// Inlinable, so that it is specialised for each element type where it is used instead of
    /// encoding every element through the protocol's witness table.
    @inlinable
    public func encode(into buffer: inout [UInt8]) throws(PostgresError) {
        Int32(1).appendBigEndian(to: &buffer)  // dimensions
        let hasNullsAt = buffer.count
        Int32(0).appendBigEndian(to: &buffer)  // whether there are NULL elements, set below
        Element.elementType.rawValue.appendBigEndian(to: &buffer)
        switch storage {
        case .values(let values):
            Int32(values.count).appendBigEndian(to: &buffer)
            Int32(1).appendBigEndian(to: &buffer)  // lower bound
            for value in values { try Self.append(value, to: &buffer) }
        case .optionals(let optionals):
            Int32(optionals.count).appendBigEndian(to: &buffer)
            Int32(1).appendBigEndian(to: &buffer)  // lower bound
            for element in optionals {
                guard let value = element else {
                    Int32(-1).appendBigEndian(to: &buffer)  // NULL: a length of -1 and no bytes
                    buffer[hasNullsAt + 3] = 1
                    continue
                }
                try Self.append(value, to: &buffer)
            }
        }
    }

    /// One element, written in place after room for its length, which is filled in after.
    @inlinable
    static func append(_ value: Element, to buffer: inout [UInt8]) throws(PostgresError) {
        let lengthAt = buffer.count
        Int32(0).appendBigEndian(to: &buffer)
        try value.encode(into: &buffer)
        guard let length = Int32(exactly: buffer.count - lengthAt - 4) else {
            throw PostgresError(code: .encoding, message: "an array element of \(buffer.count - lengthAt - 4) bytes is too large for a parameter")
        }
        buffer.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: length.bigEndian, toByteOffset: lengthAt, as: Int32.self)
        }
    }
}

/// A value that can be an element of a ``PostgresArray``.
public protocol PostgresArrayElement: PostgresEncodable {
    static var elementType: PostgresDataType { get }
    static var arrayType: PostgresDataType { get }
}

extension PostgresArrayElement {
    /// An element's values all have its element type; a NULL of it has it too.
    public static var postgresTypeOfNull: PostgresDataType? { elementType }
}

extension Date: PostgresArrayElement {
    public static var elementType: PostgresDataType { .timestamptz }
    public static var arrayType: PostgresDataType { .timestamptzArray }
}

extension String: PostgresArrayElement {
    public static var elementType: PostgresDataType { .text }
    public static var arrayType: PostgresDataType { .textArray }
}

extension UUID: PostgresArrayElement {
    public static var elementType: PostgresDataType { .uuid }
    public static var arrayType: PostgresDataType { .uuidArray }
}

extension Int64: PostgresArrayElement {
    public static var elementType: PostgresDataType { .int8 }
    public static var arrayType: PostgresDataType { .int8Array }
}

extension Int: PostgresArrayElement {
    public static var elementType: PostgresDataType { .int8 }
    public static var arrayType: PostgresDataType { .int8Array }
}

/// A JSON document written elsewhere, as an element of a `json[]` parameter
/// (`PostgresArray<PostgresJSONDocument>`): PostgreSQL checks that it is JSON but, unlike
/// `jsonb`, builds nothing from it, and a `json` value keeps its text. For large documents
/// stored as they came (Decision 0011).
public struct PostgresJSONDocument: PostgresArrayElement {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public static var elementType: PostgresDataType { .json }
    public static var arrayType: PostgresDataType { .jsonArray }
    public var postgresType: PostgresDataType { .json }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: bytes)
    }
}

/// A `Codable` value stored as `jsonb` (or `json`), encoded with `JSONEncoder`.
public struct PostgresJSON<Value: Codable & Sendable>: PostgresEncodable, PostgresDecodable {
    /// The wrapped value.
    public var value: Value
    /// `.jsonb` (the default) or `.json`.
    public var postgresType: PostgresDataType

    public init(_ value: Value, as type: PostgresDataType = .jsonb) {
        self.value = value
        self.postgresType = type
    }

    public func encode(into buffer: inout [UInt8]) throws(PostgresError) {
        let data: Data
        do {
            data = try PostgresJSONCoding.encoder().encode(value)
        } catch {
            throw PostgresError(
                code: .encoding, message: "cannot encode \(Value.self) as JSON",
                underlying: error)
        }
        if postgresType == .jsonb { buffer.append(PostgresRawJSON.jsonbVersion) }
        buffer.append(contentsOf: data)
    }

    public static func decode(
        from bytes: UnsafeRawBufferPointer, type: PostgresDataType
    ) throws(PostgresDecodingFailure) -> PostgresJSON<Value> {
        let text = try jsonText(bytes, type: type)
        do {
            return PostgresJSON(try PostgresJSONCoding.decoder().decode(Value.self, from: Data(text)), as: type)
        } catch {
            throw PostgresDecodingFailure("the JSON does not match \(Value.self)")
        }
    }

    static func jsonText(
        _ bytes: UnsafeRawBufferPointer, type: PostgresDataType
    ) throws(PostgresDecodingFailure) -> UnsafeRawBufferPointer {
        switch type {
        case .json: return bytes
        case .jsonb:
            guard bytes.first == PostgresRawJSON.jsonbVersion else { throw PostgresDecodingFailure("unknown jsonb format version") }
            return UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        default: throw .typeMismatch
        }
    }
}

/// JSON bytes written elsewhere (by a hand-written writer, a template), sent as `jsonb` as they are:
/// PostgreSQL checks them. Also an element of a `jsonb[]` parameter (`PostgresArray<PostgresRawJSON>`).
public struct PostgresRawJSON: PostgresArrayElement {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The first byte of a `jsonb` value in binary form: the format's version. The JSON text follows.
    public static let jsonbVersion: UInt8 = 1

    public static var elementType: PostgresDataType { .jsonb }
    public static var arrayType: PostgresDataType { .jsonbArray }
    public var postgresType: PostgresDataType { .jsonb }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(Self.jsonbVersion)
        buffer.append(contentsOf: bytes)
    }
}

/// The text of a `json` or `jsonb` column, undecoded.
public struct PostgresJSONText: PostgresDecodable {
    public var bytes: [UInt8]

    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> PostgresJSONText {
        PostgresJSONText(bytes: Array(try PostgresJSON<Bool>.jsonText(bytes, type: type)))
    }
}

/// How ``PostgresJSON`` writes and reads JSON: sorted keys (a stable text for equal values) and
/// dates as ISO 8601 in UTC with microseconds, PostgreSQL's own precision.
public enum PostgresJSONCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 UTC timestamp")
            }
            return date
        }
        return decoder
    }

    /// `2026-01-05T08:00:00.123456Z`: UTC, always six fractional digits. Computed from the
    /// day number (Hinnant's civil-from-days) for the years 1583 to 9999; before the Gregorian
    /// calendar (where Foundation's formatter counts Julian days) and after, by the formatter.
    public static func format(_ date: Date) -> String {
        let micros = PostgresTimestamp.microseconds(from: date)
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = Int(micros - seconds * 1_000_000)
        let unixSeconds = seconds + 946_684_800
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secondOfDay = Int(unixSeconds - days * 86_400)
        let (year, month, day) = civil(fromDays: days)
        guard (1583...9999).contains(year) else { return slowFormat(seconds: seconds, fraction: fraction) }
        // Written in place: a byte array and `String(decoding:)` cost more than the arithmetic.
        return String(unsafeUninitializedCapacity: 27) { text in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    text[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(Int(year), 4, at: 0)
            text[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            text[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            text[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, 2, at: 11)
            text[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, 2, at: 14)
            text[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, 2, at: 17)
            text[19] = UInt8(ascii: ".")
            put(fraction, 6, at: 20)
            text[26] = UInt8(ascii: "Z")
            return 27
        }
    }

    /// `date` as reading back what ``format(_:)`` wrote gives it: to the microsecond, as
    /// PostgreSQL keeps it. For the years 1583 to 9999, `parse(format(date)) == stored(date)`.
    public static func stored(_ date: Date) -> Date {
        PostgresTimestamp.date(fromMicroseconds: PostgresTimestamp.microseconds(from: date))
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date.
    static func days(fromCivil year: Int64, _ month: Int, _ day: Int) -> Int64 {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func slowFormat(seconds: Int64, fraction: Int) -> String {
        let whole = Date(timeIntervalSinceReferenceDate: Double(seconds) + PostgresTimestamp.epochFromReferenceDate)
        let base = whole.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
        let digits = String(fraction)
        return base + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Reads what ``format(_:)`` writes without a formatter; other ISO 8601 forms with one.
    public static func parse(_ text: String) -> Date? {
        if let date = fastParse(text) { return date }
        return slowParse(text)
    }

    private static func fastParse(_ text: String) -> Date? {
        let utf8 = text.utf8
        guard utf8.count == 27 else { return nil }
        return utf8.withContiguousStorageIfAvailable { bytes -> Date? in
            func number(_ offset: Int, _ width: Int) -> Int? {
                var value = 0
                for index in offset..<(offset + width) {
                    let digit = bytes[index] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    value = value * 10 + Int(digit)
                }
                return value
            }
            guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
                bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."),
                bytes[26] == UInt8(ascii: "Z"),
                let year = number(0, 4), year >= 1583, let month = number(5, 2), (1...12).contains(month),
                let day = number(8, 2), day >= 1, let hour = number(11, 2), hour < 24,
                let minute = number(14, 2), minute < 60, let second = number(17, 2), second < 60,
                let fraction = number(20, 6)
            else { return nil }
            let days = days(fromCivil: Int64(year), month, day)
            guard civil(fromDays: days) == (Int64(year), month, day) else { return nil }
            let unixSeconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
            return PostgresTimestamp.date(fromMicroseconds: (unixSeconds - 946_684_800) * 1_000_000 + Int64(fraction))
        } ?? nil
    }

    private static func slowParse(_ text: String) -> Date? {
        guard text.hasSuffix("Z"), let dot = text.lastIndex(of: ".") else {
            return try? Date(text, strategy: .iso8601)
        }
        let digits = text[text.index(after: dot)..<text.index(before: text.endIndex)]
        guard (1...9).contains(digits.count), digits.allSatisfy(\.isNumber),
            let whole = try? Date(String(text[..<dot]) + "Z", strategy: .iso8601)
        else { return nil }
        let padded = (digits + String(repeating: "0", count: 9)).prefix(6)
        let micros = PostgresTimestamp.microseconds(from: whole) + Int64(padded)!
        return PostgresTimestamp.date(fromMicroseconds: micros)
    }
}
