import Foundation
import WeicheCore
import WeichePostgres

extension PipelineStore {
    /// Everything recorded about one message, without its payload.
    public struct MessageDetail: Sendable, Encodable {
        public struct Envelope: Sendable, Encodable {
            public var id: UUID
            public var sender: String
            public var senderMessageId: String
            public var type: String
            public var sentAt: Date
            public var receivedAt: Date
            public var legalBasis: String
            public var purpose: String
            public var consentReference: String?
            public var inReplyTo: String?
            public var payloadErased: Bool
        }

        public struct Attempt: Sendable, Encodable {
            public var attempt: Int
            public var worker: String
            public var startedAt: Date
            public var finishedAt: Date
            public var outcome: String
            public var error: String?
        }

        public struct Delivery: Sendable, Encodable {
            public var id: UUID
            public var kind: String
            public var recipient: String
            public var state: String
            public var attempts: [Attempt]
            public var dueAt: Date
            public var lastError: String?
            /// The delivery this one sends again, who replayed it and why.
            public var replayOf: UUID?
            public var replayedBy: String?
            public var replayReason: String?
        }

        public struct Event: Sendable, Encodable {
            public var at: Date
            public var kind: String
            public var agency: String?
            public var actor: String
            public var details: [String: String]
        }

        /// A message in the same conversation (answered by, or answering, this one).
        public struct Related: Sendable, Encodable {
            public var id: UUID
            public var relation: String
            public var type: String
            public var sender: String
            public var receivedAt: Date
        }

        public var message: Envelope
        public var events: [Event]
        public var deliveries: [Delivery]
        public var conversation: [Related]
    }

    /// The message with Weiche id `id`, or `nil` if there is none.
    public func messageDetail(_ id: UUID) async throws -> MessageDetail? {
        try await pool.withConnection { connection in
            let rows = try await connection.query("""
                SELECT id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose, consent_reference,
                       in_reply_to, referral IS NULL
                FROM message WHERE id = \(id)
                """)
            guard let row = rows.first else { return nil }
            let (messageID, sender, senderMessageID, type, sent, received, basis, purpose, consent, reply, erased) = try row.decode(
                (UUID, String, String, String, Date, Date, String, String, String?, String?, Bool).self)
            let envelope = MessageDetail.Envelope(
                id: messageID, sender: sender, senderMessageId: senderMessageID, type: type, sentAt: sent, receivedAt: received,
                legalBasis: basis, purpose: purpose, consentReference: consent, inReplyTo: reply, payloadErased: erased)
            let events = try await connection.query("""
                SELECT at, kind, agencies[cardinality(agencies)], actor, details FROM audit_log WHERE message_id = \(id) ORDER BY seq
                """).map { row in
                let (at, kind, agency, actor, details) = try row.decode((Date, String, String?, String, PostgresJSON<[String: String]>).self)
                return MessageDetail.Event(at: at, kind: kind, agency: agency, actor: actor, details: details.value.filter { !$0.value.isEmpty })
            }
            var deliveries: [MessageDetail.Delivery] = []
            for row in try await connection.query("""
                SELECT id, kind, recipient, state, due_at, last_error, replay_of, replayed_by, replay_reason
                FROM delivery WHERE message_id = \(id) ORDER BY created_at, kind = 'receipt', recipient
                """) {
                let (deliveryID, kind, recipient, state, due, error, replayOf, replayedBy, replayReason) = try row.decode(
                    (UUID, String, String, String, Date, String?, UUID?, String?, String?).self)
                let attempts = try await connection.query("""
                    SELECT attempt, worker, started_at, finished_at, outcome, error FROM delivery_attempt
                    WHERE delivery_id = \(deliveryID) ORDER BY attempt
                    """).map { row in
                    let (number, worker, started, finished, outcome, error) = try row.decode((Int, String, Date, Date, String, String?).self)
                    return MessageDetail.Attempt(attempt: number, worker: worker, startedAt: started, finishedAt: finished, outcome: outcome, error: error)
                }
                deliveries.append(.init(
                    id: deliveryID, kind: kind, recipient: recipient, state: state, attempts: attempts, dueAt: due, lastError: error,
                    replayOf: replayOf, replayedBy: replayedBy, replayReason: replayReason))
            }
            func related(_ query: PostgresQuery, _ relation: String) async throws -> [MessageDetail.Related] {
                try await connection.query(query).map { row in
                    let (relatedID, type, sender, received) = try row.decode((UUID, String, String, Date).self)
                    return MessageDetail.Related(id: relatedID, relation: relation, type: type, sender: sender, receivedAt: received)
                }
            }
            var conversation: [MessageDetail.Related] = []
            if let reply {
                conversation += try await related("""
                    SELECT id, type, sender, received_at FROM message
                    WHERE (id::text = \(reply.lowercased()) OR sender_message_id = \(reply)) AND id <> \(id) ORDER BY received_at
                    """, "answers")
            }
            conversation += try await related("""
                SELECT id, type, sender, received_at FROM message
                WHERE lower(in_reply_to) = \(id.uuidString.lowercased()) OR in_reply_to = \(senderMessageID) ORDER BY received_at
                """, "answered by")
            return MessageDetail(message: envelope, events: events, deliveries: deliveries, conversation: conversation)
        }
    }
}

extension PipelineStore {
    /// The Weiche message id of `sender`'s message `senderMessageID`, if it was stored.
    public func messageID(sender: String, senderMessageID: String) async throws -> UUID? {
        let rows = try await pool.query("SELECT id FROM message WHERE sender = \(sender) AND sender_message_id = \(senderMessageID)")
        return try rows.first?.decode(UUID.self, at: 0)
    }
}

extension PipelineStore {
    /// Erases the payloads of up to `limit` messages received before `cutoff` whose deliveries
    /// have all ended (delivered or failed): the referral and each recipient's copy become NULL,
    /// the envelope and the audit log stay, and a `payload-erased` event records who and why.
    /// Returns how many messages were erased; call again until it returns 0.
    public func erasePayloads(receivedBefore cutoff: Date, actor: String, reason: String, limit: Int = 500) async throws -> Int {
        let now = clock.now()
        return try await pool.withAuditedTransaction { connection, audit in
            let erased = try await connection.query("""
                UPDATE message m SET referral = NULL, erased_at = \(now)
                WHERE m.id IN (
                    SELECT id FROM message
                    WHERE received_at < \(cutoff) AND \(unsafeSQL: Self.erasable)
                    ORDER BY received_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING m.id
                """).map { try $0.decode(UUID.self, at: 0) }
            guard !erased.isEmpty else { return 0 }
            try await connection.query("UPDATE delivery SET content = NULL WHERE message_id = ANY (\(PostgresArray(erased)))")
            for id in erased {
                audit.add(AuditEvent(.payloadErased, at: now, actor: actor, message: id, details: ["reason": reason]))
            }
            return erased.count
        }
    }

    /// How many messages received before `cutoff` still hold a payload and could be erased now.
    public func erasablePayloads(receivedBefore cutoff: Date) async throws -> Int {
        try await pool.query("""
            SELECT count(*)::bigint FROM message WHERE received_at < \(cutoff) AND \(unsafeSQL: Self.erasable)
            """).single().decode(Int.self, at: 0)
    }

    /// SQL true for a `message` whose payload is still there and no longer needed: none of its
    /// deliveries is still waiting or being sent.
    static let erasable = """
        erased_at IS NULL
        AND NOT EXISTS (SELECT FROM delivery d WHERE d.message_id = message.id AND d.state IN ('pending', 'delivering'))
        """
}

extension PipelineStore {
    /// The message as received, for a person allowed to read it; records who read it. Nil if
    /// there is no such message; `.erased` once its payload is gone.
    public enum Payload: Sendable {
        case referral(Referral)
        case erased
    }

    public func readPayload(_ id: UUID, actor: String) async throws -> Payload? {
        let now = clock.now()
        return try await pool.withAuditedTransaction { connection, audit in
            let rows = try await connection.query("SELECT referral FROM message WHERE id = \(id)")
            guard let row = rows.first else { return nil }
            let referral = try row.decode(PostgresJSON<Referral>?.self, at: 0)?.value
            audit.add(AuditEvent(.payloadRead, at: now, actor: actor, message: id, details: referral == nil ? ["result": "erased"] : [:]))
            return referral.map(Payload.referral) ?? .erased
        }
    }
}
