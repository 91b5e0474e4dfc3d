extension Migration {
    /// The delivery table is a queue: every claim and completion leaves a dead row version and
    /// a dead entry in the pending index, which each later claim scans past until vacuum
    /// removes it. Vacuum it after a few thousand changes rather than after a fifth of the
    /// table, without throttling, so claiming stays fast under a large backlog.
    static let v6QueueVacuum = Migration(
        version: 6,
        name: "queue-vacuum",
        sql: """
            ALTER TABLE delivery SET (
                autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 2000,
                autovacuum_vacuum_insert_scale_factor = 0.0, autovacuum_vacuum_insert_threshold = 5000,
                autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0, fillfactor = 90);
            """)
}
