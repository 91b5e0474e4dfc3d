/// An error raised by Weiche itself (not by PostgreSQL or an agency's bytes).
///
/// `message` says what was wrong and what to do about it, in one line, and never contains
/// personal data or payloads: it is shown to operators and written to logs as it is.
public struct WeicheError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }

        /// The database cannot be reached or started.
        public static let databaseUnavailable = Code("databaseUnavailable")
        /// The database schema is not what this version of Weiche expects.
        public static let schemaMismatch = Code("schemaMismatch")
        /// A configuration file or variable is invalid.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// Input from outside (a file, an argument) is invalid.
        public static let invalidInput = Code("invalidInput")
        /// The thing asked for does not exist.
        public static let notFound = Code("notFound")
        /// The request conflicts with what is already stored.
        public static let conflict = Code("conflict")
        /// An operating-system call failed.
        public static let system = Code("system")

        public var description: String { name }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error & Sendable)?
    public var file: String
    public var line: Int

    public init(
        _ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String { message }
}
