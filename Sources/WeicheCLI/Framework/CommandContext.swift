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

    /// Where the database is: the server `WEICHE_DATABASE_URL` names, or the embedded cluster.
    enum Database {
        case external(PostgresConfiguration)
        case embedded(EmbeddedPostgres)
    }

    /// Reads `WEICHE_DATABASE_URL` and `WEICHE_HOME`.
    func database() throws -> Database {
        if let url = environment["WEICHE_DATABASE_URL"], !url.isEmpty {
            do {
                return .external(try PostgresConfiguration(connectionString: url))
            } catch {
                throw WeicheError(.invalidConfiguration, "WEICHE_DATABASE_URL: \(error)")
            }
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
        if let searchPath { configuration.searchPath = searchPath }
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
}
