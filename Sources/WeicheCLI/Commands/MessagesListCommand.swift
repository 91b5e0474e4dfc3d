import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// `weiche messages list`: messages, newest first, with where each delivery stands.
struct MessagesListCommand: Command {
    static let path = ["messages", "list"]
    static let abstract = "List messages, newest first, with each recipient's delivery state."
    static let help = """
        USAGE: weiche messages list [--state STATE] [--from AGENCY] [--to AGENCY] [--type TYPE]
                                    [--since TIME] [--until TIME] [--limit N] [--json]

        Lists messages, newest first: when they arrived, their Weiche id, type, sender, and for
        each recipient the state of its latest delivery (a replayed delivery counts as its
        replay). Metadata only.

        OPTIONS:
          --state STATE    Messages with a delivery in this state: pending, delivering,
                           delivered, failed; or refused (a recipient was refused).
          --from AGENCY    Sent by this agency.       --to AGENCY   Delivered to this agency.
          --type TYPE      Of this referral type.
          --since, --until Received in this time: ISO 8601 (2026-11-25T08:00:00+01:00) or an age (2h, 3d).
          --limit N        At most N messages (default 50, at most 10000).
          --json           An array of {id, receivedAt, type, sender, senderMessageId, inReplyTo,
                           deliveries: [{recipient, kind, state, attempts, lastError}], refused: [agency]}.

        EXAMPLES:
          weiche messages list --state failed --to jugendamt --since 1d
          weiche messages list --from massarbeit --type kinderbetreuung.anfrage --limit 10 --json
        """

    var state: String?
    var sender: String?
    var recipient: String?
    var type: String?
    var since: Date?
    var until: Date?
    var limit = 50
    var json: Bool

    init(arguments: inout Arguments) throws(UsageError) {
        state = try arguments.option("--state")
        if let state, !["pending", "delivering", "delivered", "failed", "refused"].contains(state) {
            throw UsageError("--state must be pending, delivering, delivered, failed or refused")
        }
        sender = try arguments.option("--from")
        recipient = try arguments.option("--to")
        for (name, value) in [("--from", sender), ("--to", recipient)] {
            if let value, AgencyID(value) == nil { throw UsageError("\(name): not an agency id (lowercase letters, digits, '-')") }
        }
        type = try arguments.option("--type")
        if let type, ReferralType(type) == nil { throw UsageError("--type: not a referral type (e.g. kinderbetreuung.anfrage)") }
        if let text = try arguments.option("--since") { since = try TimeArgument.parse(text, option: "--since") }
        if let text = try arguments.option("--until") { until = try TimeArgument.parse(text, option: "--until") }
        if let text = try arguments.option("--limit") {
            guard let number = Int(text), (1...10_000).contains(number) else { throw UsageError("--limit must be a whole number from 1 to 10000") }
            limit = number
        }
        json = arguments.flag("--json")
        try arguments.finish()
    }

    struct Listed: Encodable {
        struct Delivery: Encodable {
            var recipient: String
            var kind: String
            var state: String
            var attempts: Int
            var lastError: String?
        }
        var id: UUID
        var receivedAt: Date
        var type: String
        var sender: String
        var senderMessageId: String
        var inReplyTo: String?
        var deliveries: [Delivery]
        var refused: [String]
    }

    func run(_ context: CommandContext) async throws {
        let messages = try await context.withDatabase { pool in try await read(pool) }
        if json {
            try context.printJSON(messages)
            return
        }
        guard !messages.isEmpty else {
            context.print("No messages match.")
            return
        }
        let time = Date.ISO8601FormatStyle()
        context.print("RECEIVED".padded(to: 22) + "ID".padded(to: 38) + "TYPE".padded(to: 34) + "FROM".padded(to: 20) + "DELIVERIES")
        for message in messages {
            let deliveries = message.deliveries.map { "\($0.kind == "receipt" ? "receipt→" : "")\($0.recipient):\($0.state)" }
                + message.refused.map { "\($0):refused" }
            context.print(message.receivedAt.formatted(time).padded(to: 22) + message.id.uuidString.lowercased().padded(to: 38)
                + message.type.padded(to: 34) + message.sender.padded(to: 20) + deliveries.joined(separator: " "))
        }
        if messages.count == limit { context.note("(the newest \(limit); use --limit or narrow the filters for more)") }
    }

    func read(_ pool: PostgresConnectionPool) async throws -> [Listed] {
        let rows = try await pool.query("""
            WITH current AS (
                SELECT d.* FROM delivery d WHERE \(unsafeSQL: PipelineStore.isLatestOfLineage)
            ), refused AS (
                SELECT message_id, array_agg(DISTINCT agencies[cardinality(agencies)]) AS agencies
                FROM audit_log WHERE kind = 'refused' AND NOT details ? 'replayOf' GROUP BY message_id
            )
            SELECT m.id, m.received_at, m.type, m.sender, m.sender_message_id, m.in_reply_to,
                   coalesce((SELECT jsonb_agg(jsonb_build_object('recipient', c.recipient, 'kind', c.kind, 'state', c.state,
                                                                 'attempts', c.attempts, 'lastError', c.last_error) ORDER BY c.created_at)
                             FROM current c WHERE c.message_id = m.id), '[]'),
                   coalesce(array_to_string(r.agencies, ','), '')
            FROM message m LEFT JOIN refused r ON r.message_id = m.id
            WHERE (\(sender)::text IS NULL OR m.sender = \(sender))
              AND (\(type)::text IS NULL OR m.type = \(type))
              AND (\(since)::timestamptz IS NULL OR m.received_at >= \(since))
              AND (\(until)::timestamptz IS NULL OR m.received_at <= \(until))
              AND (\(recipient)::text IS NULL OR EXISTS (SELECT FROM current c WHERE c.message_id = m.id AND c.recipient = \(recipient)))
              AND (\(state)::text IS NULL
                   OR (\(state) = 'refused' AND r.agencies IS NOT NULL)
                   OR EXISTS (SELECT FROM current c WHERE c.message_id = m.id AND c.state = \(state)
                                AND (\(recipient)::text IS NULL OR c.recipient = \(recipient))))
            ORDER BY m.received_at DESC, m.id
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let (id, received, type, sender, senderID, reply, deliveries, refused) = try row.decode(
                (UUID, Date, String, String, String, String?, PostgresJSON<[Listed.Delivery]>, String).self)
            return Listed(
                id: id, receivedAt: received, type: type, sender: sender, senderMessageId: senderID, inReplyTo: reply,
                deliveries: deliveries.value, refused: refused.isEmpty ? [] : refused.split(separator: ",").map(String.init))
        }
    }
}

extension MessagesListCommand.Listed.Delivery: Decodable {}
