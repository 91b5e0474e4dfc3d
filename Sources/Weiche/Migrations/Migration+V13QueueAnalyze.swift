extension Migration {
    /// The delivery table is analyzed as often as PostgreSQL's default (after a tenth of its
    /// rows changed) instead of after 2 % (migration 6). Migration 6 kept the statistics fresh
    /// for the claim's plans; since migration 9 and Decision 0009 those plans walk their
    /// indexes whatever the statistics say. With a million deliveries of history, each analyze
    /// samples 30,000 rows of the large table, and at 2 % it ran every 20,000 changes — about
    /// five times in each benchmark run of 50,000 referrals, taking CPU from the gateway and
    /// the database: end to end with that history ran at 0.89–0.98 of an empty database's rate
    /// in five runs, and at 0.99, 1.06 and 1.08 in three analyzing less often (a fifth of the
    /// rows, then this default) (Docs/Performance.md). Vacuuming stays as migration 6 set it.
    static let v13QueueAnalyze = Migration(
        version: 13,
        name: "queue-analyze-default",
        sql: """
            ALTER TABLE delivery RESET (autovacuum_analyze_scale_factor);
            """)
}
