import Foundation

/// A SQL statement and its parameters, built by string interpolation.
///
/// Every interpolated value becomes a numbered parameter (`$1`, `$2`, …) sent separately from
/// the SQL text, so no value is ever spliced into SQL:
///
/// ```swift
/// let rows = try await connection.query("SELECT id FROM agencies WHERE name = \(name)")
/// ```
///
/// Raw SQL text can only enter through the explicitly named `unsafeSQL:` entry points, and
/// identifiers (schema, table, channel names) through `\(identifier:)`, which quotes them.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text, with `$n` placeholders.
    public var sql: String
    /// The parameters, in placeholder order.
    public var bindings: PostgresBindings

    /// A query from SQL text that was not built by interpolation. The caller vouches that no
    /// outside value went into `sql`.
    public init(unsafeSQL sql: String, bindings: PostgresBindings = PostgresBindings()) {
        self.sql = sql
        self.bindings = bindings
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(unsafeSQL: stringInterpolation.sql, bindings: stringInterpolation.bindings)
    }

    /// The SQL text only: parameter values are never part of a query's description.
    public var description: String { sql }

    /// Builds the SQL text and the parameter list of an interpolated query.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var bindings = PostgresBindings()

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// A parameter.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// A parameter that may be NULL.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// An identifier, double-quoted so that any name is taken literally.
        public mutating func appendInterpolation(identifier: String) {
            sql += PostgresQuery.quoteIdentifier(identifier)
        }

        /// Raw SQL text. The caller vouches that no outside value went into it.
        public mutating func appendInterpolation(unsafeSQL: String) {
            sql += unsafeSQL
        }
    }

    /// `name` as a double-quoted SQL identifier.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + (name.utf8.contains(UInt8(ascii: "\"")) ? name.replacingOccurrences(of: "\"", with: "\"\"") : name) + "\""
    }

    /// `text` as an SQL string constant (an escape string, `E'…'`, so that it reads the same
    /// whatever `standard_conforming_strings` is). For the few statements that cannot take
    /// parameters, such as `SET`.
    public static func quoteLiteral(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "'") }) else { return "E'" + text + "'" }
        return "E'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }
}

/// The parameters of a query, already in PostgreSQL's binary format.
public struct PostgresBindings: Sendable {
    /// All parameter bytes, back to back.
    @usableFromInline var bytes: [UInt8] = []
    /// Per parameter: where its bytes start in `bytes` and how many there are; `nil` for NULL.
    @usableFromInline var slices: [(start: Int, count: Int32)?] = []
    @usableFromInline var types: [UInt32] = []
    /// The first encoding failure, reported when the query is sent.
    @usableFromInline var encodingError: PostgresError?

    public init() {}

    /// Room for `bytes` bytes of parameters, so that large ones (a batch's documents) are not
    /// copied each time the buffer grows.
    public init(reservingCapacity bytes: Int) {
        self.bytes.reserveCapacity(bytes)
    }

    /// The number of parameters.
    public var count: Int { types.count }

    /// Appends a parameter. Inlinable, so that each value type's encoding is specialised where
    /// it is bound (arrays of thousands of elements per batch).
    @inlinable
    public mutating func append<Value: PostgresEncodable>(_ value: Value) {
        let start = bytes.count
        do {
            try value.encode(into: &bytes)
        } catch {
            bytes.removeSubrange(start...)
            if encodingError == nil { encodingError = error }
        }
        slices.append((start, Int32(bytes.count - start)))
        types.append(value.postgresType.rawValue)
    }

    /// Appends a parameter that may be NULL.
    public mutating func append<Value: PostgresEncodable>(_ value: Value?) {
        if let value {
            append(value)
        } else {
            slices.append(nil)
            types.append(Value.postgresTypeOfNull?.rawValue ?? 0)  // 0: the server infers it
        }
    }

    /// Appends a NULL of `type`. Unlike an untyped NULL, it lets the statement be prepared
    /// (see ``PostgresConnection/query(_:file:line:)``).
    public mutating func appendNull(_ type: PostgresDataType) {
        slices.append(nil)
        types.append(type.rawValue)
    }
}

