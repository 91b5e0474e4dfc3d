import CLibPQ

/// Owns one libpq result. libpq results are immutable once complete and may be read from
/// any thread; the result is freed when the last ``PostgresRows`` or ``PostgresRow`` that
/// refers to it goes away.
final class PostgresResultStorage: @unchecked Sendable {
    let result: OpaquePointer

    init(_ result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }
}

/// A result column's name and type.
public struct PostgresColumn: Sendable, Hashable {
    public var name: String
    public var type: PostgresDataType
}

/// The rows a statement returned, in order.
public struct PostgresRows: Sendable, RandomAccessCollection {
    let storage: PostgresResultStorage?
    /// The result's columns.
    public let columns: [PostgresColumn]
    /// The number of rows an INSERT, UPDATE, DELETE, MERGE, SELECT or COPY affected or returned.
    public let affectedRows: Int

    init(_ storage: PostgresResultStorage) {
        self.storage = storage
        let result = storage.result
        columns = (0..<PQnfields(result)).map { index in
            PostgresColumn(
                name: String(cString: PQfname(result, index)),
                type: PostgresDataType(rawValue: UInt32(PQftype(result, index))))
        }
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
        endIndex = Int(PQntuples(result))
    }

    /// A result without rows (from a statement that returns none).
    init() {
        storage = nil
        columns = []
        affectedRows = 0
        endIndex = 0
    }

    public var startIndex: Int { 0 }
    public let endIndex: Int

    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < endIndex, "row index out of range")
        return PostgresRow(rows: self, index: Int32(position))
    }

    /// The only row, or an error if there is none or more than one.
    public func single(file: String = #fileID, line: Int = #line) throws(PostgresError) -> PostgresRow {
        guard count == 1 else {
            throw PostgresError(
                code: .decoding, message: "expected exactly one row, got \(count)", file: file, line: line)
        }
        return self[0]
    }
}

/// One row of a result.
///
/// ```swift
/// let (id, name) = try row.decode((UUID, String?).self)
/// let createdAt = try row.decode(Date.self, column: "created_at")
/// ```
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int32

    /// Decodes the column at `column` (0-based).
    public func decode<Value: PostgresDecodable>(
        _: Value.Type, at column: Int, file: String = #fileID, line: Int = #line
    ) throws(PostgresError) -> Value {
        guard column >= 0, column < rows.columns.count, let storage = rows.storage else {
            throw PostgresError(
                code: .decoding,
                message: "column #\(column) does not exist; the row has \(rows.columns.count) columns",
                file: file, line: line)
        }
        let info = rows.columns[column]
        let result = storage.result
        let fieldIndex = Int32(column)
        do {
            if PQgetisnull(result, index, fieldIndex) == 1 {
                return try Value.decodeNull(type: info.type)
            }
            let length = Int(PQgetlength(result, index, fieldIndex))
            let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, index, fieldIndex), count: length)
            return try Value.decode(from: bytes, type: info.type)
        } catch {
            let reason = error == .typeMismatch ? "cannot be decoded as \(Value.self)" : "as \(Value.self): \(error.reason)"
            throw PostgresError(
                code: .decoding,
                message: "column \"\(info.name)\" (#\(column), \(info.type)) \(reason)",
                file: file, line: line)
        }
    }

    /// Decodes the column named `column`.
    public func decode<Value: PostgresDecodable>(
        _ type: Value.Type, column: String, file: String = #fileID, line: Int = #line
    ) throws(PostgresError) -> Value {
        guard let position = rows.columns.firstIndex(where: { $0.name == column }) else {
            throw PostgresError(
                code: .decoding, message: "the result has no column \"\(column)\"", file: file, line: line)
        }
        return try decode(type, at: position, file: file, line: line)
    }

    /// Decodes the row's columns, in order, as a tuple; the number of columns must match.
    public func decode<each Value: PostgresDecodable>(
        _: (repeat each Value).Type, file: String = #fileID, line: Int = #line
    ) throws(PostgresError) -> (repeat each Value) {
        var expected = 0
        for _ in repeat (each Value).self { expected += 1 }
        guard expected == rows.columns.count else {
            throw PostgresError(
                code: .decoding,
                message: "the row has \(rows.columns.count) columns, but \(expected) were to be decoded",
                file: file, line: line)
        }
        return try decode((repeat each Value).self, from: 0, file: file, line: line)
    }

    /// Decodes consecutive columns from `start` as a tuple, for a row whose columns are read
    /// in parts; the columns must exist.
    public func decode<each Value: PostgresDecodable>(
        _: (repeat each Value).Type, from start: Int, file: String = #fileID, line: Int = #line
    ) throws(PostgresError) -> (repeat each Value) {
        var column = start
        func next<Next: PostgresDecodable>(_ type: Next.Type) throws(PostgresError) -> Next {
            defer { column += 1 }
            return try decode(type, at: column, file: file, line: line)
        }
        return (repeat try next((each Value).self))
    }
}
