import WeicheCore
import WeichePostgres

/// Applies Weiche's migrations to the schema first on the connection's `search_path`.
///
/// All pending migrations run in one transaction under a transaction-level advisory lock, so
/// two processes migrating at once serialize: the second finds the work done. Each applied
/// migration is recorded in `schema_migrations` with its checksum.
public struct Migrator: Sendable {
    /// The migrations this version of Weiche knows, in order.
    public let migrations: [Migration]
    /// The database roles a migration that creates roles uses.
    public let roles: DatabaseRoles

    public init(migrations: [Migration] = Migration.all, roles: DatabaseRoles = DatabaseRoles()) {
        precondition(
            migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
            "migration versions must be 1, 2, 3, … without gaps")
        self.migrations = migrations
        self.roles = roles
    }

    /// What ``migrate(on:)`` did.
    public struct Report: Sendable {
        /// The migrations applied by this call.
        public var applied: [Migration]
        /// The schema version after the call.
        public var version: Int
    }

    /// Applies every pending migration; `willApply` learns of each just before it runs.
    /// - Throws: ``WeicheError`` `schemaMismatch` when an applied migration's checksum differs
    ///   from the code's, or the database holds a migration this version does not know.
    public func migrate(on pool: PostgresConnectionPool, willApply: (Migration) -> Void = { _ in }) async throws -> Report {
        try await pool.withTransaction { connection in
            try await lock(connection)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let applied = try await appliedMigrations(connection)
            try verify(applied)
            let pending = migrations.dropFirst(applied.count)
            try await connection.query("""
                SELECT set_config('weiche.gateway_role', \(roles.gateway), true), set_config('weiche.auditor_role', \(roles.auditor), true)
                """)
            for migration in pending {
                willApply(migration)
                do {
                    try await connection.execute(unsafeSQL: migration.sql)
                } catch {
                    throw WeicheError(
                        .schemaMismatch, "migration \(migration.version) (\(migration.name)) failed: \(error)",
                        underlying: error)
                }
                try await connection.query("""
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """)
            }
            return Report(applied: Array(pending), version: migrations.count)
        }
    }

    /// Checks, without changing anything, that the database is fully migrated and that its
    /// migrations are this version's. Commands that use the schema call this first.
    public func verifyCurrent(on pool: PostgresConnectionPool) async throws {
        let applied = try await readApplied(pool)
        try verify(applied)
        guard applied.count == migrations.count else {
            throw WeicheError(
                .schemaMismatch,
                "the database schema is at version \(applied.count), this Weiche needs \(migrations.count): run 'weiche migrate'")
        }
    }

    /// How the database's schema relates to this version of Weiche.
    public struct SchemaStatus: Sendable {
        /// How many migrations the database has applied.
        public var appliedVersion: Int
        /// How many this version of Weiche knows.
        public var knownVersion: Int
        /// Why the schema cannot be used as it is, if it cannot.
        public var problem: String?
    }

    /// Reads the schema's state without changing anything.
    public func status(on pool: PostgresConnectionPool) async throws -> SchemaStatus {
        let applied = try await readApplied(pool)
        var status = SchemaStatus(appliedVersion: applied.count, knownVersion: migrations.count)
        do {
            try verify(applied)
        } catch let error as WeicheError {
            status.problem = error.message
        }
        return status
    }

    private func readApplied(_ pool: PostgresConnectionPool) async throws -> [AppliedMigration] {
        try await pool.withConnection { connection in
            let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
            guard try exists.single().decode(Bool.self, at: 0) else { return [AppliedMigration]() }
            return try await appliedMigrations(connection)
        }
    }

    /// A row of `schema_migrations`.
    public struct AppliedMigration: Sendable {
        public var version: Int
        public var name: String
        public var checksum: String
    }

    private func appliedMigrations(_ connection: PostgresConnection) async throws -> [AppliedMigration] {
        try await connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            .map { row in
                let (version, name, checksum) = try row.decode((Int, String, String).self)
                return AppliedMigration(version: version, name: name, checksum: checksum)
            }
    }

    private func verify(_ applied: [AppliedMigration]) throws {
        for (index, record) in applied.enumerated() {
            guard index < migrations.count, record.version == migrations[index].version else {
                throw WeicheError(
                    .schemaMismatch,
                    "the database has migration \(record.version) (\(record.name)), which this version of Weiche does not know: use a newer weiche")
            }
            guard record.checksum == migrations[index].checksum else {
                throw WeicheError(
                    .schemaMismatch,
                    "migration \(record.version) (\(record.name)) was changed after it was applied (checksum \(record.checksum.prefix(12))… in the database, \(migrations[index].checksum.prefix(12))… in this build): refusing to continue. Restore the released migration and add a new one instead")
            }
        }
    }

    /// Serializes migrators of the same schema across processes until the transaction ends.
    private func lock(_ connection: PostgresConnection) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtext('weiche.migrate'), hashtext(coalesce(current_schema(), '')))")
    }
}
