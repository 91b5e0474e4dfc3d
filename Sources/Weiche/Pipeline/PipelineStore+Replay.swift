import Foundation
import WeicheCore
import WeichePostgres

extension PipelineStore {
    /// SQL true for a delivery `d` that nobody replayed yet: the latest of its lineage, the one
    /// whose state counts (status, dead letters, lists, further replays).
    public static let isLatestOfLineage = "NOT EXISTS (SELECT FROM delivery r WHERE r.replay_of = d.id)"

    /// Which deliveries a replay considers: of each lineage (a delivery and its replays) only the
    /// latest, and only those that existed when the replay began.
    public struct ReplaySelection: Sendable, Equatable {
        /// Only these messages (empty: any).
        public var messages: [UUID] = []
        /// Only deliveries in this state (`failed`, `delivered`). Replays an earlier run left
        /// pending always count, so that a re-run finishes an interrupted one.
        public var state: String?
        public var recipient: String?
        public var type: String?
        /// When the message was received.
        public var since: Date?
        public var until: Date?
        /// Deliveries created after this moment are not considered (the replay's own).
        public var createdBefore: Date

        public init(
            messages: [UUID] = [], state: String? = nil, recipient: String? = nil, type: String? = nil, since: Date? = nil,
            until: Date? = nil, createdBefore: Date
        ) {
            self.messages = messages
            self.state = state
            self.recipient = recipient
            self.type = type
            self.since = since
            self.until = until
            self.createdBefore = createdBefore
        }
    }

    /// A delivery a replay may send again, with what policy needs to decide.
    public struct ReplayCandidate: Sendable {
        public var deliveryID: UUID
        public var messageID: UUID
        public var recipient: AgencyID
        /// `referral` or `receipt`.
        public var kind: String
        public var state: String
        /// Whether this delivery is itself a replay.
        public var isReplay: Bool
        public var type: String
        public var sender: String
        public var createdAt: Date
        /// The message as received; nil once erased.
        public var referral: Referral?
        /// What this delivery carried; nil once erased.
        public var sentContent: Referral?
        public var receipt: Receipt?
    }

    /// The next `limit` candidates after `cursor` (created-at and id of the last one seen).
    public func replayCandidates(_ selection: ReplaySelection, after cursor: (Date, UUID)?, limit: Int) async throws -> [ReplayCandidate] {
        let messages = selection.messages.isEmpty ? nil : PostgresArray(selection.messages)
        let rows = try await pool.query("""
            SELECT d.id, d.message_id, d.recipient, d.kind, d.state, d.replay_of IS NOT NULL, m.type, m.sender, d.created_at,
                   m.referral, d.receipt, \(unsafeSQL: PipelineStore.deliveredContentColumns)
            FROM delivery d JOIN message m ON m.id = d.message_id
            WHERE \(unsafeSQL: PipelineStore.isLatestOfLineage)
              AND d.created_at <= \(selection.createdBefore)
              AND (\(messages)::uuid[] IS NULL OR d.message_id = ANY (\(messages)))
              AND (\(selection.state)::text IS NULL OR d.state = \(selection.state) OR (d.state = 'pending' AND d.replay_of IS NOT NULL))
              AND (\(selection.recipient)::text IS NULL OR d.recipient = \(selection.recipient))
              AND (\(selection.type)::text IS NULL OR m.type = \(selection.type))
              AND (\(selection.since)::timestamptz IS NULL OR m.received_at >= \(selection.since))
              AND (\(selection.until)::timestamptz IS NULL OR m.received_at <= \(selection.until))
              AND (\(cursor?.0)::timestamptz IS NULL OR (d.created_at, d.id) > (\(cursor?.0), \(cursor?.1)))
            ORDER BY d.created_at, d.id
            LIMIT \(limit)
            """)
        return try rows.compactMap { row in
            let (id, message, recipient, kind, state, isReplay, type, sender, created, referral, receipt) = try row.decode(
                (UUID, UUID, String, String, String, Bool, String, String, Date, PostgresJSONText?, PostgresJSON<Receipt>?).self, from: 0)
            guard let agency = AgencyID(recipient) else { return nil }
            let received = try referral.map { try ReferralJSON.decode($0.bytes) }
            return ReplayCandidate(
                deliveryID: id, messageID: message, recipient: agency, kind: kind, state: state, isReplay: isReplay, type: type,
                sender: sender, createdAt: created, referral: received,
                sentContent: try Self.deliveredContent(row, from: 11, referral: { received }, for: agency), receipt: receipt?.value)
        }
    }

    /// A replay to create: the delivery to send again, with the content today's policy allows.
    public struct ReplayOrder: Sendable {
        public var candidate: ReplayCandidate
        /// For a referral: today's route's terms, under which the replay's content is made from
        /// the message (Decision 0012).
        public var terms: Policy.Terms?
        /// What changed under today's policy, for the record (empty: nothing).
        public var note: String

        public init(candidate: ReplayCandidate, terms: Policy.Terms?, note: String) {
            self.candidate = candidate
            self.terms = terms
            self.note = note
        }
    }

    /// A delivery today's policy no longer allows: recorded, not sent.
    public struct ReplayRefusal: Sendable {
        public var candidate: ReplayCandidate
        public var code: String
        public var reason: String

        public init(candidate: ReplayCandidate, code: String, reason: String) {
            self.candidate = candidate
            self.code = code
            self.reason = reason
        }
    }

    /// Creates one new pending delivery per order, linked to the delivery it replays, and
    /// records the replays and refusals with who and why — all in one transaction. The
    /// original deliveries and their attempts are not touched. A delivery already replayed
    /// (by a concurrent run) is skipped. Returns the new deliveries' ids.
    public func createReplays(_ orders: [ReplayOrder], refusals: [ReplayRefusal], actor: String, reason: String) async throws -> [UUID] {
        let now = clock.now()
        return try await pool.withAuditedTransaction { connection, audit in
            var created: [UUID] = []
            for order in orders {
                let id = UUID.timeOrdered(at: now)
                let terms = order.terms
                let categories = terms.map { PostgresArray($0.categoryNames) }
                let inserted = try await connection.query("""
                    INSERT INTO delivery (id, message_id, recipient, state, due_at, categories, legal_basis, purpose, notice, created_at,
                                          kind, receipt_from, receipt, replay_of, replayed_by, replay_reason)
                    SELECT \(id), message_id, recipient, 'pending', \(now), \(categories), \(terms?.legalBasis), \(terms?.purpose),
                           \(terms?.notice), \(now), kind, receipt_from, receipt, id, \(actor), \(reason)
                    FROM delivery WHERE id = \(order.candidate.deliveryID)
                    ON CONFLICT DO NOTHING
                    """)
                guard inserted.affectedRows == 1 else { continue }
                created.append(id)
                audit.add(AuditEvent(.replayed, at: now, actor: actor, message: order.candidate.messageID, agency: order.candidate.recipient, details: [
                    "reason": reason, "replayOf": order.candidate.deliveryID.uuidString.lowercased(), "delivery": id.uuidString.lowercased(),
                    "policy": order.note,
                ]))
            }
            for refusal in refusals {
                audit.add(AuditEvent(.refused, at: now, actor: actor, message: refusal.candidate.messageID, agency: refusal.candidate.recipient, details: [
                    "code": refusal.code, "reason": refusal.reason, "replayOf": refusal.candidate.deliveryID.uuidString.lowercased(),
                ]))
            }
            return created
        }
    }
}
