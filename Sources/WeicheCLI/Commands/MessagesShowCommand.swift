import Foundation
import Weiche
import WeicheCore

/// `weiche messages show ID`: one message's envelope, events, deliveries and conversation.
struct MessagesShowCommand: Command {
    static let path = ["messages", "show"]
    static let abstract = "Show a message: route, legal basis, removals, deliveries, receipts, conversation."
    static let help = """
        USAGE: weiche messages show ID [--json]

        Shows everything recorded about one message (by its Weiche message id): the envelope and
        legal basis, what happened to it (received, routed, minimised — which fields —, refused,
        every delivery attempt with its error, receipts), and the messages it answers or that
        answer it. Shows metadata only, never the payload.

        OPTIONS:
          --json    One JSON object instead of text.

        EXAMPLES:
          weiche messages show d08f120a-570d-483c-a7d4-f4070cdc4d3d
          weiche messages show d08f120a-570d-483c-a7d4-f4070cdc4d3d --json | jq '.deliveries[].state'
        """

    var id: UUID
    var json: Bool

    init(arguments: inout Arguments) throws(UsageError) {
        json = arguments.flag("--json")
        let rest = try arguments.positionals()
        guard rest.count == 1 else { throw UsageError("give one message id") }
        guard let id = UUID(uuidString: rest[0]) else { throw UsageError("'\(rest[0])' is not a message id (a UUID)") }
        self.id = id
    }

    func run(_ context: CommandContext) async throws {
        let pool = try await context.openPool(maxConnections: 1)
        let detail: PipelineStore.MessageDetail?
        do {
            try await Migrator().verifyCurrent(on: pool)
            detail = try await PipelineStore(pool: pool).messageDetail(id)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        guard let detail else { throw WeicheError(.notFound, "no message \(id.uuidString.lowercased())") }
        if json {
            try context.printJSON(detail)
            return
        }
        let message = detail.message
        let time = Date.ISO8601FormatStyle()
        context.print("Message   \(message.id.uuidString.lowercased())  (\(message.type))")
        context.print("From      \(message.sender), its id \(message.senderMessageId), sent \(message.sentAt.formatted(time)), received \(message.receivedAt.formatted(time))")
        context.print("Basis     \(message.legalBasis) — \(message.purpose)")
        if let consent = message.consentReference { context.print("Consent   \(consent)") }
        if let reply = message.inReplyTo { context.print("Answers   \(reply)") }
        if message.payloadErased { context.print("Payload   erased") }
        context.print("\nWHAT HAPPENED")
        for event in detail.events {
            let details = event.details.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            context.print("  \(event.at.formatted(time))  \(event.kind.padded(to: 14)) \((event.agency ?? "").padded(to: 24)) \(details)")
        }
        if !detail.deliveries.isEmpty {
            context.print("\nDELIVERIES")
            for delivery in detail.deliveries {
                let what = delivery.kind == "receipt" ? "receipt to" : "to"
                context.print("  \(what) \(delivery.recipient): \(delivery.state), \(delivery.attempts.count) attempt\(delivery.attempts.count == 1 ? "" : "s")")
                for attempt in delivery.attempts {
                    context.print("    #\(attempt.attempt) \(attempt.finishedAt.formatted(time)) \(attempt.outcome)\(attempt.error.map { ": \($0)" } ?? "") (\(attempt.worker))")
                }
            }
        }
        if !detail.conversation.isEmpty {
            context.print("\nCONVERSATION")
            for related in detail.conversation {
                context.print("  \(related.relation) \(related.id.uuidString.lowercased())  \(related.type) from \(related.sender), \(related.receivedAt.formatted(time))")
            }
        }
    }
}
