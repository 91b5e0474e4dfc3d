import Foundation

/// A Swift value that can be sent as a query parameter, in PostgreSQL's binary format.
///
/// Implementation requirements: `encode(into:)` appends exactly the binary representation of
/// the value for ``postgresType`` (see PostgreSQL's `*send` functions) and nothing else.
public protocol PostgresEncodable: Sendable {
    /// The type the server is told the parameter has.
    var postgresType: PostgresDataType { get }
    /// Appends the value's binary representation.
    func encode(into buffer: inout [UInt8]) throws(PostgresError)
}

extension FixedWidthInteger {
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
    public func encode(into buffer: inout [UInt8]) { appendBigEndian(to: &buffer) }
}

extension Int16: PostgresEncodable {
    public var postgresType: PostgresDataType { .int2 }
    public func encode(into buffer: inout [UInt8]) { appendBigEndian(to: &buffer) }
}

extension Double: PostgresEncodable {
    public var postgresType: PostgresDataType { .float8 }
    public func encode(into buffer: inout [UInt8]) { bitPattern.appendBigEndian(to: &buffer) }
}

extension Bool: PostgresEncodable {
    public var postgresType: PostgresDataType { .bool }
    public func encode(into buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
}

extension String: PostgresEncodable {
    public var postgresType: PostgresDataType { .text }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Array: PostgresEncodable where Element == UInt8 {
    public var postgresType: PostgresDataType { .bytea }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

extension Data: PostgresEncodable {
    public var postgresType: PostgresDataType { .bytea }
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
public struct PostgresArray<Element: PostgresArrayElement>: PostgresEncodable {
    public var elements: [Element]
    public init(_ elements: [Element]) { self.elements = elements }

    public var postgresType: PostgresDataType { Element.arrayType }

    public func encode(into buffer: inout [UInt8]) throws(PostgresError) {
        Int32(1).appendBigEndian(to: &buffer)  // dimensions
        Int32(0).appendBigEndian(to: &buffer)  // no NULL elements
        Element.elementType.rawValue.appendBigEndian(to: &buffer)
        Int32(elements.count).appendBigEndian(to: &buffer)
        Int32(1).appendBigEndian(to: &buffer)  // lower bound
        var element: [UInt8] = []
        for value in elements {
            element.removeAll(keepingCapacity: true)
            try value.encode(into: &element)
            Int32(element.count).appendBigEndian(to: &buffer)
            buffer.append(contentsOf: element)
        }
    }
}

/// A value that can be an element of a ``PostgresArray``.
public protocol PostgresArrayElement: PostgresEncodable {
    static var elementType: PostgresDataType { get }
    static var arrayType: PostgresDataType { get }
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
        if postgresType == .jsonb { buffer.append(1) }  // jsonb binary format version
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
            guard bytes.first == 1 else { throw PostgresDecodingFailure("unknown jsonb format version") }
            return UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        default: throw .typeMismatch
        }
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

    /// `2026-01-05T08:00:00.123456Z`.
    static func format(_ date: Date) -> String {
        let micros = PostgresTimestamp.microseconds(from: date)
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let whole = Date(timeIntervalSinceReferenceDate: Double(seconds) + PostgresTimestamp.epochFromReferenceDate)
        let base = whole.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
        let digits = String(fraction)
        return base + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    static func parse(_ text: String) -> Date? {
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
