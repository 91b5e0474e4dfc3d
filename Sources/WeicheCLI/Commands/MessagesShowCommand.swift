import Foundation
import Weiche
import WeicheCore

/// `weiche messages show ID`: one message's envelope, events, deliveries and conversation.
struct MessagesShowCommand: Command {
    static let path = ["messages", "show"]
    static let abstract = "Show a message: route, legal basis, removals, deliveries, receipts, conversation."
    static let help = """
        USAGE: weiche messages show ID [--json] [--payload [--as NAME]]

        Shows everything recorded about one message (by its Weiche message id): the envelope and
        legal basis, what happened to it (received, routed, minimised — which fields —, refused,
        every delivery attempt with its error, receipts), and the messages it answers or that
        answer it, and every replay with who and why. Shows metadata only, unless --payload.

        OPTIONS:
          --json        One JSON object instead of text.
          --payload     Also print the message's content as received (JSON). This is a read
                        of personal data: it is recorded in the audit log with who read it.
          --as NAME     Who reads, for the audit log (default: the operating-system user).

        EXAMPLES:
          weiche messages show d08f120a-570d-483c-a7d4-f4070cdc4d3d
          weiche messages show d08f120a-570d-483c-a7d4-f4070cdc4d3d --json | jq '.deliveries[].state'
          weiche messages show d08f120a-570d-483c-a7d4-f4070cdc4d3d --payload --as "M. Weber"
        """

    var id: UUID
    var json: Bool
    var payload: Bool
    var actor: String?

    init(arguments: inout Arguments) throws(UsageError) {
        json = arguments.flag("--json")
        payload = arguments.flag("--payload")
        actor = try arguments.option("--as")
        if actor != nil && !payload { throw UsageError("--as names who reads the payload: use it with --payload") }
        let rest = try arguments.positionals()
        guard rest.count == 1 else { throw UsageError("give one message id") }
        guard let id = UUID(parsing: rest[0]) else { throw UsageError("'\(rest[0])' is not a message id (a UUID)") }
        self.id = id
    }

    func run(_ context: CommandContext) async throws {
        let person = payload ? try context.person(actor) : ""
        let (detail, content) = try await context.withDatabase { pool in
            let store = PipelineStore(pool: pool)
            guard let detail = try await store.messageDetail(id) else { return (nil as PipelineStore.MessageDetail?, nil as PipelineStore.Payload?) }
            return (detail, payload ? try await store.readPayload(id, actor: person) : nil)
        }
        guard let detail else { throw WeicheError(.notFound, "no message \(id.uuidString.lowercased())") }
        if json {
            struct WithPayload: Encodable {
                var detail: PipelineStore.MessageDetail
                var payload: Referral?
                var payloadErased: Bool
                func encode(to encoder: any Encoder) throws {
                    try detail.encode(to: encoder)
                    var container = encoder.container(keyedBy: Key.self)
                    if let payload { try container.encode(payload, forKey: .payload) } else if payloadErased { try container.encodeNil(forKey: .payload) }
                }
                enum Key: String, CodingKey { case payload }
            }
            var erased = false
            if case .erased? = content { erased = true }
            var referral: Referral?
            if case .referral(let value)? = content { referral = value }
            try context.printJSON(WithPayload(detail: detail, payload: referral, payloadErased: erased))
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
                context.print("  \(what) \(delivery.recipient): \(delivery.state), \(delivery.attempts.count) attempt\(delivery.attempts.count == 1 ? "" : "s")  [\(delivery.id.uuidString.lowercased().prefix(8))]")
                for replay in detail.deliveries where replay.replayOf == delivery.id {
                    context.print("    replayed as [\(replay.id.uuidString.lowercased().prefix(8))]")
                }
                if let original = delivery.replayOf {
                    context.print("    replay of [\(original.uuidString.lowercased().prefix(8))] by \(delivery.replayedBy ?? "?"): \(delivery.replayReason ?? "")")
                }
                for attempt in delivery.attempts {
                    context.print("    #\(attempt.attempt) \(attempt.finishedAt.formatted(time)) \(attempt.outcome)\(attempt.error.map { ": \($0)" } ?? "") (\(attempt.worker))")
                }
            }
        }
        if let content {
            context.print("\nPAYLOAD (this read is recorded in the audit log)")
            switch content {
            case .erased: context.print("  erased")
            case .referral(let referral):
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                context.print(String(decoding: try encoder.encode(referral), as: UTF8.self))
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
