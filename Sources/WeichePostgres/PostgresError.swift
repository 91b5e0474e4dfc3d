/// An error from the PostgreSQL layer: a failed connection, a server error, or a value that
/// could not be decoded.
///
/// The `description` is safe to log: it never contains query parameters, the connection
/// password, or the server's `detail` (which can quote row values such as a duplicate key).
/// Those stay available, for code that needs them, in the stored properties.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The connection could not be established.
        public static let connectionFailed = Code("connectionFailed")
        /// The connection broke during or before the call (server restart, terminated backend).
        public static let connectionClosed = Code("connectionClosed")
        /// The connection attempt took longer than the configured timeout.
        public static let timeout = Code("timeout")
        /// The server answered with an error; see ``PostgresError/sqlState``.
        public static let server = Code("server")
        /// A result value could not be turned into the requested Swift type.
        public static let decoding = Code("decoding")
        /// A value could not be encoded as a query parameter.
        public static let encoding = Code("encoding")
        /// The connection string is not a valid libpq connection string or URI.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The pool was closed while the call waited for or held a connection.
        public static let poolClosed = Code("poolClosed")
        /// The client and server disagree about the protocol (an unexpected result status).
        public static let protocolViolation = Code("protocolViolation")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable, log-safe summary (for server errors: PostgreSQL's primary message).
    public var message: String
    /// The five-character SQLSTATE for server errors, for example `23505`.
    public var sqlState: String?
    /// The server's detail text. May quote data values: never log it.
    public var detail: String?
    /// The server's hint, if any.
    public var hint: String?
    /// The constraint that was violated, if any.
    public var constraintName: String?
    /// The schema, table and column the error concerns, where the server names them.
    public var schemaName: String?
    public var tableName: String?
    public var columnName: String?
    /// The error that caused this one, if any.
    public var underlying: (any Error & Sendable)?
    /// Where in Weiche's source the error was raised.
    public var file: String
    public var line: Int

    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        underlying: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Whether retrying the whole transaction may succeed: a serialization failure (40001)
    /// or a detected deadlock (40P01).
    public var isTransactionConflict: Bool {
        sqlState == "40001" || sqlState == "40P01"
    }

    public var description: String {
        var text = message
        if let sqlState { text = "\(text) (SQLSTATE \(sqlState))" }
        if let constraintName { text += " [constraint \(constraintName)]" }
        if let hint { text += " Hint: \(hint)" }
        return text
    }
}
