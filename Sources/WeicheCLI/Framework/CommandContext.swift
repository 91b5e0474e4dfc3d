import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// What a command works with: the environment, output, and the database.
struct CommandContext {
    var environment: [String: String]

    /// Writes a line to standard output.
    func print(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Writes a progress or notice line to standard error, which scripts do not parse.
    func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Whether standard error is a terminal, where progress lines may overwrite each other.
    var showsProgress: Bool { isatty(STDERR_FILENO) == 1 }

    /// Overwrites the progress line on a terminal; writes nothing when output is redirected.
    func progress(_ line: String) {
        if showsProgress { FileHandle.standardError.write(Data("\r\(line) ".utf8)) }
    }

    /// Ends a run of progress lines, so that what follows starts on a line of its own.
    func endProgress() {
        if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// Where the database is: the server `WEICHE_DATABASE_URL` names, or the embedded cluster.
    enum Database {
        case external(PostgresConfiguration)
        case embedded(EmbeddedPostgres)
    }

    /// Reads `WEICHE_DATABASE_URL`, `WEICHE_DATABASE_PREPARED_STATEMENTS` and `WEICHE_HOME`.
    func database() throws -> Database {
        if let url = environment["WEICHE_DATABASE_URL"], !url.isEmpty {
            var configuration: PostgresConfiguration
            do {
                configuration = try PostgresConfiguration(connectionString: url)
            } catch {
                throw WeicheError(.invalidConfiguration, "WEICHE_DATABASE_URL: \(error)")
            }
            if let limit = environment["WEICHE_DATABASE_PREPARED_STATEMENTS"], !limit.isEmpty {
                guard let number = Int(limit), (0...1000).contains(number) else {
                    throw WeicheError(.invalidConfiguration, "WEICHE_DATABASE_PREPARED_STATEMENTS takes a number from 0 to 1000 "
                        + "(0 behind a pooler that does not keep sessions), not '\(limit.prefix(20))'")
                }
                configuration.preparedStatementLimit = number
            }
            return .external(configuration)
        }
        return .embedded(EmbeddedPostgres.fromEnvironment(environment))
    }

    /// A pool on the database, starting the embedded cluster first if that is the one in use.
    /// With `searchPath`, the pool works in those schemas.
    func openPool(maxConnections: Int = 4, searchPath: [String]? = nil) async throws -> PostgresConnectionPool {
        var configuration: PostgresConfiguration
        switch try database() {
        case .external(let external):
            configuration = external
        case .embedded(let embedded):
            configuration = try await embedded.start { directory in
                note("Creating Weiche's embedded PostgreSQL in \(directory.path) (first run; takes a few seconds)…")
            }
        }
        if let searchPath {
            configuration.searchPath = searchPath
        } else if let schema = environment["WEICHE_DATABASE_SCHEMA"], !schema.isEmpty {
            configuration.searchPath = [schema]
        }
        let pool = PostgresConnectionPool(configuration: configuration, maxConnections: maxConnections)
        // Connect once now, so that an unreachable server is reported before any work starts.
        do {
            try await pool.query("SELECT 1")
        } catch {
            await pool.close()
            throw error
        }
        return pool
    }

    /// Runs `body` with a pool on a database whose schema is this version's, and closes it.
    func withDatabase<Result>(maxConnections: Int = 1, _ body: (PostgresConnectionPool) async throws -> Result) async throws -> Result {
        let pool = try await openPool(maxConnections: maxConnections)
        do {
            try await Migrator().verifyCurrent(on: pool)
            let result = try await body(pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }

    /// Who runs the command, for the audit log: `--as NAME`, else the operating-system user.
    func person(_ given: String?) throws -> String {
        if let given {
            let trimmed = given.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.contains(where: \.isNewline) else {
                throw WeicheError(.invalidInput, "--as must name a person in at most 100 characters on one line")
            }
            return "person/" + trimmed
        }
        if let user = environment["USER"] ?? environment["LOGNAME"], !user.isEmpty { return "person/" + user }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return "person/" + String(cString: name) }
        return "person/uid-\(geteuid())"
    }
}
