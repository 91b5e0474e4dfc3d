import Foundation
import Weiche
import WeichePostgres

/// `weiche status`: the delivery queue at a glance.
struct StatusCommand: Command {
    static let path = ["status"]
    static let abstract = "Show deliveries per recipient and state, the oldest waiting, failure rate and dead letters."
    static let help = """
        USAGE: weiche status [--json]

        Shows, per recipient, how many deliveries are pending (waiting for their first attempt
        or a retry), being delivered, delivered, and failed (dead letters); when the oldest
        pending one has been due since; and the failures grouped by their last error.

        OPTIONS:
          --json    One JSON object instead of tables.

        EXAMPLES:
          weiche status
          weiche status --json | jq '.recipients[] | select(.failed > 0)'
        """

    var json: Bool

    init(arguments: inout Arguments) throws(UsageError) {
        json = arguments.flag("--json")
        try arguments.finish()
    }

    struct Report: Encodable {
        struct Recipient: Encodable {
            var recipient: String
            var pending = 0
            var delivering = 0
            var delivered = 0
            var failed = 0
            var oldestDueAt: Date?
            var attemptsLastHour = 0
            var failedAttemptsLastHour = 0
        }
        struct Failure: Encodable {
            var recipient: String
            var error: String
            var count: Int
        }
        var recipients: [Recipient]
        var failures: [Failure]
    }

    func run(_ context: CommandContext) async throws {
        let pool = try await context.openPool(maxConnections: 1)
        let report: Report
        do {
            try await Migrator().verifyCurrent(on: pool)
            report = try await read(pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        if json {
            try context.printJSON(report)
            return
        }
        if report.recipients.isEmpty {
            context.print("No deliveries yet.")
            return
        }
        context.print("RECIPIENT".padded(to: 26) + "PENDING".padded(to: 9) + "ACTIVE".padded(to: 8) + "DELIVERED".padded(to: 11) + "FAILED".padded(to: 8) + "OLDEST DUE".padded(to: 18) + "FAILED ATTEMPTS (1 h)")
        let now = Date()
        for row in report.recipients {
            let oldest = row.oldestDueAt.map { Self.age(now.timeIntervalSince($0)) } ?? "-"
            context.print(row.recipient.padded(to: 26) + String(row.pending).padded(to: 9) + String(row.delivering).padded(to: 8)
                + String(row.delivered).padded(to: 11) + String(row.failed).padded(to: 8) + oldest.padded(to: 18) + Self.rate(row))
        }
        if !report.failures.isEmpty {
            context.print("\nFAILED (dead letters), by last error:")
            for failure in report.failures {
                context.print("  \(failure.recipient): \(failure.count) × \(failure.error)")
            }
        }
    }

    private func read(_ pool: PostgresConnectionPool) async throws -> Report {
        var recipients: [String: Report.Recipient] = [:]
        let counts = try await pool.query("""
            SELECT recipient, state, count(*)::bigint, min(due_at) FILTER (WHERE state = 'pending')
            FROM delivery d WHERE \(unsafeSQL: PipelineStore.isLatestOfLineage)
            GROUP BY recipient, state
            """)
        for row in counts {
            let (recipient, state, count, oldest) = try row.decode((String, String, Int, Date?).self)
            var entry = recipients[recipient] ?? Report.Recipient(recipient: recipient)
            switch state {
            case "pending":
                entry.pending = count
                entry.oldestDueAt = oldest
            case "delivering": entry.delivering = count
            case "delivered": entry.delivered = count
            default: entry.failed = count
            }
            recipients[recipient] = entry
        }
        let failures = try await pool.query("""
            SELECT recipient, coalesce(last_error, '(none)'), count(*)::bigint FROM delivery d
            WHERE state = 'failed' AND \(unsafeSQL: PipelineStore.isLatestOfLineage)
            GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 50
            """).map { row in
            let (recipient, error, count) = try row.decode((String, String, Int).self)
            return Report.Failure(recipient: recipient, error: error, count: count)
        }
        let rates = try await pool.query("""
            SELECT d.recipient, count(*)::bigint, count(*) FILTER (WHERE a.outcome <> 'delivered')::bigint
            FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id
            WHERE a.finished_at >= now() - interval '1 hour' GROUP BY 1
            """)
        for row in rates {
            let (recipient, attempts, failed) = try row.decode((String, Int, Int).self)
            var entry = recipients[recipient] ?? Report.Recipient(recipient: recipient)
            entry.attemptsLastHour = attempts
            entry.failedAttemptsLastHour = failed
            recipients[recipient] = entry
        }
        return Report(recipients: recipients.values.sorted { $0.recipient < $1.recipient }, failures: failures)
    }

    /// "2 of 40 (5%)", or "-" without attempts in the last hour.
    static func rate(_ row: Report.Recipient) -> String {
        guard row.attemptsLastHour > 0 else { return "-" }
        return "\(row.failedAttemptsLastHour) of \(row.attemptsLastHour) (\(row.failedAttemptsLastHour * 100 / row.attemptsLastHour)%)"
    }

    /// "due now", "3 min", "2 h", "4 d".
    static func age(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<60: "due now"
        case ..<3600: "\(Int(seconds / 60)) min overdue"
        case ..<86_400: "\(Int(seconds / 3600)) h overdue"
        default: "\(Int(seconds / 86_400)) d overdue"
        }
    }
}
