/// One versioned change to Weiche's database schema.
///
/// A migration's SQL never changes once released: the migrator records its checksum and
/// refuses to run against a database whose applied migrations differ from the code's.
/// Change the schema by adding a migration with the next version number.
public struct Migration: Sendable, Hashable {
    /// The position in the sequence, starting at 1 and without gaps.
    public let version: Int
    /// A short name, shown by `weiche migrate`.
    public let name: String
    /// The SQL, which may hold several statements. Runs inside the migrator's transaction:
    /// no `BEGIN`/`COMMIT`, no `CREATE INDEX CONCURRENTLY`.
    public let sql: String
    /// What an operator should know before it runs, for a migration that takes long or locks
    /// tables (shown by `weiche migrate`); not part of the checksum.
    public let notice: String?

    public init(version: Int, name: String, sql: String, notice: String? = nil) {
        self.version = version
        self.name = name
        self.sql = sql
        self.notice = notice
    }

    /// SHA-256 of the SQL text, in hexadecimal.
    public var checksum: String { SHA256.hexDigest(of: sql) }
}

extension Migration {
    /// Weiche's migrations, in order.
    public static let all: [Migration] = [
        .v1Foundation,
        .v2Pipeline,
        .v3Receipts,
        .v4Audit,
        .v5Replay,
        .v6QueueVacuum,
        .v7SetBasedAudit,
        .v8PayloadCompression,
        .v9StatisticsIndependentPlans,
        .v10PayloadsAsText,
        .v11DeliveryTerms,
        .v12AuditTimeRanges,
        .v13QueueAnalyze,
        .v14AuditAppendArrays,
    ]
}
