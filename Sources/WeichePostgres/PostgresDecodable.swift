import Foundation

/// Why one value could not be decoded. ``PostgresRow`` turns it into a ``PostgresError``
/// that names the column.
public struct PostgresDecodingFailure: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }

    /// The column's PostgreSQL type cannot be decoded as the requested Swift type.
    public static let typeMismatch = PostgresDecodingFailure("type mismatch")
    /// The column is NULL and the requested Swift type is not optional.
    public static let unexpectedNull = PostgresDecodingFailure("the value is NULL; decode an Optional")
}

/// A Swift value that can be read from a result column in PostgreSQL's binary format.
///
/// Implementation requirements: `decode(from:type:)` must never crash, whatever the bytes;
/// it throws ``PostgresDecodingFailure/typeMismatch`` for a PostgreSQL type it does not read
/// and a failure with a reason for malformed bytes.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value. `bytes` is valid only during the call.
    static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self
    /// The value for SQL NULL. The default throws ``PostgresDecodingFailure/unexpectedNull``.
    static func decodeNull(type: PostgresDataType) throws(PostgresDecodingFailure) -> Self
}

extension PostgresDecodable {
    public static func decodeNull(type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        throw .unexpectedNull
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Wrapped? {
        try Wrapped.decode(from: bytes, type: type)
    }

    public static func decodeNull(type: PostgresDataType) -> Wrapped? { nil }
}

extension UnsafeRawBufferPointer {
    /// Reads a big-endian integer that must fill the buffer exactly.
    func bigEndianInteger<T: FixedWidthInteger>(_: T.Type) throws(PostgresDecodingFailure) -> T {
        guard count == MemoryLayout<T>.size else {
            throw PostgresDecodingFailure("expected \(MemoryLayout<T>.size) bytes, got \(count)")
        }
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: self) }
        return T(bigEndian: value)
    }
}

/// Reads any PostgreSQL integer type, widened to 64 bits.
private func decodeInteger(_ bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int64 {
    switch type {
    case .int2: Int64(try bytes.bigEndianInteger(Int16.self))
    case .int4: Int64(try bytes.bigEndianInteger(Int32.self))
    case .int8: try bytes.bigEndianInteger(Int64.self)
    case .oid: Int64(try bytes.bigEndianInteger(UInt32.self))
    default: throw .typeMismatch
    }
}

extension Int64: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int64 {
        try decodeInteger(bytes, type: type)
    }
}

extension Int: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int {
        Int(try decodeInteger(bytes, type: type))
    }
}

extension Int32: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int32 {
        switch type {
        case .int2: Int32(try bytes.bigEndianInteger(Int16.self))
        case .int4: try bytes.bigEndianInteger(Int32.self)
        default: throw .typeMismatch
        }
    }
}

extension Int16: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Int16 {
        guard type == .int2 else { throw .typeMismatch }
        return try bytes.bigEndianInteger(Int16.self)
    }
}

extension Double: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Double {
        switch type {
        case .float8: Double(bitPattern: try bytes.bigEndianInteger(UInt64.self))
        case .float4: Double(Float(bitPattern: try bytes.bigEndianInteger(UInt32.self)))
        default: throw .typeMismatch
        }
    }
}

extension Bool: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Bool {
        guard type == .bool else { throw .typeMismatch }
        guard bytes.count == 1 else { throw PostgresDecodingFailure("a bool is one byte") }
        return bytes[0] != 0
    }
}

extension String: PostgresDecodable {
    /// Reads the textual types, and `json`/`jsonb` as their JSON text.
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> String {
        let text: UnsafeRawBufferPointer
        if type.isTextual {
            text = bytes
        } else if type == .jsonb {
            text = try PostgresJSON<Int>.jsonText(bytes, type: type)
        } else {
            throw .typeMismatch
        }
        guard let string = String(validating: text, as: UTF8.self) else {
            throw PostgresDecodingFailure("the text is not valid UTF-8")
        }
        return string
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> [UInt8] {
        guard type == .bytea else { throw .typeMismatch }
        return [UInt8](bytes)
    }
}

extension Data: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Data {
        guard type == .bytea else { throw .typeMismatch }
        return Data(bytes)
    }
}

extension UUID: PostgresDecodable {
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> UUID {
        guard type == .uuid else { throw .typeMismatch }
        guard bytes.count == 16 else { throw PostgresDecodingFailure("a uuid is 16 bytes, got \(bytes.count)") }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: bytes) }
        return UUID(uuid: value)
    }
}

extension Date: PostgresDecodable {
    /// Reads `timestamptz`, and `timestamp` as if it were UTC.
    public static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingFailure) -> Date {
        guard type == .timestamptz || type == .timestamp else { throw .typeMismatch }
        return PostgresTimestamp.date(fromMicroseconds: try bytes.bigEndianInteger(Int64.self))
    }
}
