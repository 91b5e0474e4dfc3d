import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// `weiche db status`: which database Weiche uses and in what state it is.
struct DatabaseStatusCommand: Command {
    static let path = ["db", "status"]
    static let abstract = "Show which database Weiche uses and whether it is up."
    static let help = """
        USAGE: weiche db status [--json]

        Shows the database Weiche uses (the server WEICHE_DATABASE_URL names, or the embedded
        PostgreSQL under WEICHE_HOME), whether it is running and reachable, the server's version
        and the schema's version. Never starts anything.

        OPTIONS:
          --json    One JSON object instead of text.

        EXIT CODES: 0 reachable, 3 not running or not reachable.

        EXAMPLES:
          weiche db status
          weiche db status --json | jq .running
        """

    var json: Bool

    init(arguments: inout Arguments) throws(UsageError) {
        json = arguments.flag("--json")
        try arguments.finish()
    }

    struct Report: Encodable {
        var kind: String
        var target: String
        var home: String?
        var dataDirectory: String?
        var socketDirectory: String?
        var pid: Int32?
        var running: Bool
        var serverVersion: String?
        var schemaVersion: Int?
        var schemaVersionExpected: Int
        var schemaProblem: String?
        var error: String?
    }

    func run(_ context: CommandContext) async throws {
        var report = Report(kind: "", target: "", running: false, schemaVersionExpected: Migration.all.count)
        var configuration: PostgresConfiguration?
        switch try context.database() {
        case .external(let external):
            report.kind = "external"
            report.target = external.redactedDescription
            configuration = external
        case .embedded(let embedded):
            report.kind = "embedded"
            report.target = embedded.connectionString
            report.home = embedded.home.path
            report.dataDirectory = embedded.dataDirectory.path
            report.socketDirectory = embedded.socketDirectory.path
            switch try await embedded.state() {
            case .notCreated: report.error = "not created yet (any command that needs the database creates it)"
            case .stopped: report.error = "stopped (start it with 'weiche db start')"
            case .running(let pid):
                report.pid = pid
                configuration = try PostgresConfiguration(connectionString: embedded.connectionString)
            }
        }
        if let configuration {
            let pool = PostgresConnectionPool(configuration: configuration, maxConnections: 1)
            do {
                let version = try await pool.query("SHOW server_version").single().decode(String.self, at: 0)
                let schema = try await Migrator().status(on: pool)
                report.running = true
                report.serverVersion = version
                report.schemaVersion = schema.appliedVersion
                report.schemaProblem = schema.problem
            } catch {
                await pool.close()
                // An external server that cannot be reached is an error, said in one line.
                if report.kind == "external" { throw error }
                report.error = CommandLineTool.describe(error).0
            }
            await pool.close()
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            context.print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            context.print(text(report))
        }
        if !report.running {
            throw StatusReported()
        }
    }

    private func text(_ report: Report) -> String {
        var lines: [String] = []
        if report.kind == "embedded" {
            lines.append("Database:  embedded PostgreSQL (WEICHE_DATABASE_URL is not set)")
            lines.append("Home:      \(report.home ?? "")")
            lines.append("Data:      \(report.dataDirectory ?? "")")
            lines.append("Socket:    \(report.socketDirectory ?? "") (Unix socket only, no TCP)")
        } else {
            lines.append("Database:  WEICHE_DATABASE_URL (\(report.target))")
        }
        if report.running {
            let pid = report.pid.map { ", pid \($0)" } ?? ""
            lines.append("State:     running\(pid), reachable")
            lines.append("Server:    PostgreSQL \(report.serverVersion ?? "?")")
            let applied = report.schemaVersion ?? 0
            var schema = "version \(applied) of \(report.schemaVersionExpected)"
            if let problem = report.schemaProblem {
                schema += " — \(problem)"
            } else if applied < report.schemaVersionExpected {
                schema += " — run 'weiche migrate'"
            } else {
                schema += " (up to date)"
            }
            lines.append("Schema:    \(schema)")
        } else {
            lines.append("State:     \(report.error ?? "not reachable")")
        }
        return lines.joined(separator: "\n")
    }
}

/// The outcome was printed in full; only the exit code remains to be set.
struct StatusReported: Error {
    var code: ExitCode = .databaseUnavailable
}

/// `weiche db start`: starts the embedded PostgreSQL.
struct DatabaseStartCommand: Command {
    static let path = ["db", "start"]
    static let abstract = "Create and start the embedded PostgreSQL."
    static let help = """
        USAGE: weiche db start

        Creates the embedded PostgreSQL under WEICHE_HOME (default ./.weiche) if there is none,
        and starts it if it is stopped. It listens on a Unix socket only and keeps running until
        'weiche db stop'. Other weiche commands start it themselves when they need it.
        Not available when WEICHE_DATABASE_URL is set: Weiche does not manage that server.

        EXAMPLES:
          weiche db start
          WEICHE_HOME=/var/lib/weiche weiche db start
        """

    init(arguments: inout Arguments) throws(UsageError) {
        try arguments.finish()
    }

    func run(_ context: CommandContext) async throws {
        let embedded = try embeddedOnly(context, action: "start")
        if case .running(let pid) = try await embedded.state() {
            context.print("The embedded PostgreSQL is already running (pid \(pid)).")
            return
        }
        let pool = try await context.openPool(maxConnections: 1)
        await pool.close()
        if case .running(let pid) = try await embedded.state() {
            context.print("The embedded PostgreSQL is running (pid \(pid)), socket in \(embedded.socketDirectory.path).")
        }
    }
}

/// `weiche db stop`: stops the embedded PostgreSQL.
struct DatabaseStopCommand: Command {
    static let path = ["db", "stop"]
    static let abstract = "Stop the embedded PostgreSQL."
    static let help = """
        USAGE: weiche db stop

        Stops the embedded PostgreSQL cleanly: connections are ended, work in progress that was
        committed stays. The data stays under WEICHE_HOME; the next command starts it again.
        Not available when WEICHE_DATABASE_URL is set: Weiche does not manage that server.

        EXAMPLES:
          weiche db stop
        """

    init(arguments: inout Arguments) throws(UsageError) {
        try arguments.finish()
    }

    func run(_ context: CommandContext) async throws {
        let embedded = try embeddedOnly(context, action: "stop")
        if try await embedded.stop() {
            context.print("The embedded PostgreSQL has stopped.")
        } else {
            context.print("The embedded PostgreSQL was not running.")
        }
    }
}

private func embeddedOnly(_ context: CommandContext, action: String) throws -> EmbeddedPostgres {
    guard case .embedded(let embedded) = try context.database() else {
        throw WeicheError(
            .invalidInput,
            "WEICHE_DATABASE_URL is set: Weiche does not \(action) that server. Unset it to use the embedded PostgreSQL")
    }
    return embedded
}
