extension Migration {
    /// The audit log's index on time becomes a BRIN index: for each range of 128 table pages, the
    /// earliest and latest time in it. The log is appended in time order, so a range of times
    /// maps to a few ranges of pages, and the index stays a few pages however long the log.
    ///
    /// The B-tree it replaces took one insert per entry, three per delivered referral, inside
    /// the append, which holds the chain's head until its transaction commits; the pgbench
    /// reference ran 1–14 % faster with the BRIN index in four runs alternated with the B-tree
    /// (Docs/Performance.md). Time ranges (`weiche audit query --since/--until`, `audit export`)
    /// read the matching page ranges; `autosummarize` summarizes each new range as it fills.
    static let v12AuditTimeRanges = Migration(
        version: 12,
        name: "audit-time-ranges",
        sql: """
            DROP INDEX audit_log_at_idx;
            CREATE INDEX audit_log_at_brin ON audit_log USING brin (at) WITH (autosummarize = on);
            """,
        notice: "reads the whole audit log once to build its time index (under a second per million entries)")
}
