import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// `weiche dead-letter list`: failed deliveries, grouped by recipient and error.
struct DeadLetterListCommand: Command {
    static let path = ["dead-letter", "list"]
    static let abstract = "List dead letters (failed deliveries) grouped by recipient and error."
    static let help = """
        USAGE: weiche dead-letter list [--to AGENCY] [--json]

        Shows the deliveries that failed for good and have not been replayed since, grouped by
        recipient and last error: how many, and when the oldest and newest failed. Send them
        again with 'weiche dead-letter redrive'.

        OPTIONS:
          --to AGENCY   Only dead letters for this agency.
          --json        An array of groups: recipient, error, count, oldestFailedAt, newestFailedAt.

        EXAMPLES:
          weiche dead-letter list
          weiche dead-letter list --to jugendamt --json
        """

    var recipient: String?
    var json: Bool

    init(arguments: inout Arguments) throws(UsageError) {
        recipient = try arguments.option("--to")
        if let recipient, AgencyID(recipient) == nil { throw UsageError("--to: not an agency id (lowercase letters, digits, '-')") }
        json = arguments.flag("--json")
        try arguments.finish()
    }

    struct Group: Encodable {
        var recipient: String
        var error: String
        var count: Int
        var oldestFailedAt: Date?
        var newestFailedAt: Date?
    }

    func run(_ context: CommandContext) async throws {
        let groups = try await context.withDatabase { pool in
            try await pool.query("""
                SELECT recipient, coalesce(last_error, '(no error recorded)'), count(*)::bigint, min(finished_at), max(finished_at)
                FROM delivery d
                WHERE state = 'failed' AND \(unsafeSQL: PipelineStore.isLatestOfLineage)
                  AND (\(recipient)::text IS NULL OR recipient = \(recipient))
                GROUP BY 1, 2 ORDER BY 1, 3 DESC
                """).map { row in
                let (recipient, error, count, oldest, newest) = try row.decode((String, String, Int, Date?, Date?).self)
                return Group(recipient: recipient, error: error, count: count, oldestFailedAt: oldest, newestFailedAt: newest)
            }
        }
        if json {
            try context.printJSON(groups)
            return
        }
        guard !groups.isEmpty else {
            context.print("No dead letters.")
            return
        }
        let time = Date.ISO8601FormatStyle()
        context.print("RECIPIENT".padded(to: 24) + "COUNT".padded(to: 7) + "OLDEST".padded(to: 22) + "NEWEST".padded(to: 22) + "LAST ERROR")
        for group in groups {
            context.print(group.recipient.padded(to: 24) + String(group.count).padded(to: 7) + (group.oldestFailedAt?.formatted(time) ?? "-").padded(to: 22)
                + (group.newestFailedAt?.formatted(time) ?? "-").padded(to: 22) + group.error)
        }
        context.print("\n\(groups.map(\.count).reduce(0, +)) dead letters. Send them again: weiche dead-letter redrive --reason \"…\" [--to AGENCY] [--dry-run]")
    }
}

/// `weiche dead-letter redrive`: a replay of the dead letters.
struct DeadLetterRedriveCommand: Command {
    static let path = ["dead-letter", "redrive"]
    static let abstract = "Send dead letters again: a replay of failed deliveries, same rules."
    static let help = """
        USAGE: weiche dead-letter redrive [--to AGENCY] [--type TYPE] [--since TIME] [--until TIME]
                                          --reason TEXT [--as NAME] [--dry-run] [--yes]
                                          [--config PATH] [--json]

        The same as 'weiche replay --state failed …': every dead letter matching the filters is
        re-checked against today's policy and sent again as a new delivery linked to the failed
        one, recorded in the audit log with who and why. See 'weiche replay --help'.

        EXIT CODES: 0 all delivered, 1 some refused, erased or failed again, 2 usage error,
        3 database unavailable, 130 interrupted (run it again).

        EXAMPLES:
          weiche dead-letter redrive --to jugendamt --reason "Zertifikat erneuert" --dry-run
          weiche dead-letter redrive --to jugendamt --reason "Zertifikat erneuert" --yes
        """

    var run: ReplayRun
    var worker: String

    init(arguments: inout Arguments) throws(UsageError) {
        run = try ReplayRun.options(&arguments)
        run.selection.state = "failed"
        worker = "redrive/\(ProcessInfo.processInfo.hostName):\(getpid())"
        try arguments.finish()
    }

    func run(_ context: CommandContext) async throws {
        try await run.run(context, worker: worker)
    }
}
