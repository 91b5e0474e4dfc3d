import Weiche

/// `weiche migrate`: brings the database schema up to this version of Weiche.
struct MigrateCommand: Command {
    static let path = ["migrate"]
    static let abstract = "Create or update Weiche's tables in the database."
    static let help = """
        USAGE: weiche migrate

        Applies every migration this version of Weiche has and the database has not, in order,
        in one transaction. Safe to run again (it then does nothing) and from several processes
        at once (they wait for each other). Refuses to run if a migration already applied was
        changed since (its checksum differs): the database and this build disagree.

        Each migration is announced on standard error before it runs. Stop the gateway before
        upgrading: some migrations rewrite tables and lock them while they run (migration 10
        takes about a minute per million referrals), and a gateway of the older version refuses
        to start on the newer schema.

        With no WEICHE_DATABASE_URL, the embedded PostgreSQL is created and started first.

        EXAMPLES:
          weiche migrate
          WEICHE_DATABASE_URL='postgresql://weiche@db.example/weiche' weiche migrate
        """

    init(arguments: inout Arguments) throws(UsageError) {
        try arguments.finish()
    }

    func run(_ context: CommandContext) async throws {
        let pool = try await context.openPool(maxConnections: 1)
        do {
            let report = try await Migrator().migrate(on: pool) { migration in
                context.note("Applying migration \(migration.version): \(migration.name)" + (migration.notice.map { " — \($0)…" } ?? "…"))
            }
            await pool.close()
            if report.applied.isEmpty {
                context.print("The schema is up to date (version \(report.version)).")
            } else {
                for migration in report.applied {
                    context.print("Applied migration \(migration.version): \(migration.name)")
                }
                context.print("The schema is at version \(report.version).")
            }
        } catch {
            await pool.close()
            throw error
        }
    }
}
