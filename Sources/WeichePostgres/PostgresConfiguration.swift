import Foundation
import CLibPQ

/// How to reach a PostgreSQL server: a libpq connection string or URI plus Weiche's defaults.
///
/// Every libpq parameter passes through unchanged (`sslmode`, `sslrootcert`, `passfile`,
/// `target_session_attrs`, …): see PostgreSQL's documentation of connection strings.
/// Weiche only adds defaults that the string does not set itself.
public struct PostgresConfiguration: Sendable {
    /// The libpq connection string or URI, as given. Contains the password if one was given:
    /// never print it; use ``redactedDescription``.
    public var connectionString: String
    /// How long establishing a connection may take in all (DNS, TCP, TLS, authentication).
    /// Passed to libpq as `connect_timeout` unless the string sets its own, and enforced by
    /// Weiche as an overall deadline as well.
    public var connectTimeout: Duration
    /// Reported to the server as `application_name` unless the string sets its own.
    public var applicationName: String
    /// Schemas to put on the session's `search_path`, first one first. `nil` keeps the server's.
    public var searchPath: [String]?
    /// How many statements a session keeps prepared (the least recently used is deallocated first); 0
    /// prepares none. Statements with parameters are prepared on their first run, so the server
    /// parses and plans them once per session instead of at every run. A pooler between
    /// Weiche and the server must keep sessions (PgBouncer: `pool_mode = session`, or
    /// `max_prepared_statements` from version 1.21), or this must be 0.
    public var preparedStatementLimit: Int

    /// Parses and checks `connectionString`.
    /// - Throws: ``PostgresError`` with code `invalidConfiguration` when libpq cannot parse it.
    ///   The error never repeats the string's contents.
    public init(
        connectionString: String,
        connectTimeout: Duration = .seconds(5),
        applicationName: String = "weiche",
        searchPath: [String]? = nil,
        preparedStatementLimit: Int = 64
    ) throws(PostgresError) {
        _ = try Self.parse(connectionString)
        self.connectionString = connectionString
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
        self.searchPath = searchPath
        self.preparedStatementLimit = preparedStatementLimit
    }

    /// Host, port, database, user and `sslmode`, without the password: safe for logs and errors.
    public var redactedDescription: String {
        guard let options = try? Self.parse(connectionString) else { return "(invalid connection string)" }
        let shown = ["host", "hostaddr", "port", "dbname", "user", "sslmode"]
        let parts = shown.compactMap { key in options[key].map { "\(key)=\($0)" } }
        return parts.isEmpty ? "(libpq defaults)" : parts.joined(separator: " ")
    }

    /// The libpq keyword/value pairs to connect with, in processing order: Weiche's defaults
    /// first, then the connection string, whose settings win (libpq keeps the last value).
    var connectionParameters: [(String, String)] {
        let seconds = max(1, Int(connectTimeout.components.seconds))
        return [
            ("connect_timeout", String(seconds)),
            ("application_name", applicationName),
            // Short statements over few rows: compiling them (JIT) costs more than it saves,
            // hundreds of milliseconds where row estimates are high (Docs/Performance.md). A
            // connection string's own `options` replace this.
            ("options", "-c jit=off"),
            ("dbname", connectionString),
            // Weiche speaks UTF-8 only; this one is not the string's to change.
            ("client_encoding", "UTF8"),
        ]
    }

    /// The options libpq reads from `string`, or an error that does not echo the string.
    static func parse(_ string: String) throws(PostgresError) -> [String: String] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(string, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "out of memory"
            errorMessage.map { PQfreemem($0) }
            throw PostgresError(
                code: .invalidConfiguration,
                message: "invalid PostgreSQL connection string: \(redactQuoted(reason).oneLine)"
            )
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                result[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        return result
    }

    /// libpq quotes the offending fragment of a bad string; that fragment may be a password.
    private static func redactQuoted(_ text: String) -> String {
        var output = ""
        var inQuote = false
        for character in text {
            if character == "\"" {
                output.append(character)
                if !inQuote { output += "…" }
                inQuote.toggle()
            } else if !inQuote {
                output.append(character)
            }
        }
        return output
    }
}

extension String {
    /// A multi-line message (libpq's, a helper program's) folded into one line.
    /// Shared within the package, not public API.
    package var oneLine: String {
        split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}
