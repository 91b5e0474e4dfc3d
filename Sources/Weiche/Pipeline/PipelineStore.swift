import Foundation
import WeicheCore
import WeichePostgres

/// The pipeline's durable state in PostgreSQL: messages, deliveries, attempts and events.
///
/// Every change and the events that describe it commit together. The store decides nothing
/// about law: it stores the decisions ``Policy`` made.
public struct PipelineStore: Sendable {
    public let pool: PostgresConnectionPool
    public let clock: any GatewayClock

    public init(pool: PostgresConnectionPool, clock: any GatewayClock = SystemClock()) {
        self.pool = pool
        self.clock = clock
    }

    /// What became of a referral handed to ``ingest(_:decisions:actor:)``.
    public enum IngestOutcome: Sendable, Equatable {
        /// Stored now: its Weiche id, and the delivery created per allowed recipient.
        case stored(messageID: UUID, deliveries: [AgencyID: UUID])
        /// The same sender message id with the same content was stored before: nothing new.
        case duplicate(messageID: UUID)
        /// The same sender message id was stored before with different content: refused.
        case conflict(messageID: UUID)
    }

    /// Stores a referral, one pending delivery per allowed recipient, and the events, in one
    /// transaction. Idempotent per sender and sender message id.
    public func ingest(_ referral: Referral, decisions: [Policy.Decision], actor: String) async throws -> IngestOutcome {
        let hash = try Self.contentHash(referral)
        let now = clock.now()
        return try await pool.withTransaction { connection in
            let id = UUID()
            var stored = referral
            stored.id = id
            let inserted = try await connection.query("""
                INSERT INTO message (id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose,
                                     consent_reference, in_reply_to, content_sha256, referral)
                VALUES (\(id), \(referral.sender.rawValue), \(referral.senderMessageID), \(referral.type.rawValue),
                        \(referral.createdAt), \(now), \(referral.legalBasis), \(referral.purpose),
                        \(referral.consentReference), \(referral.inReplyTo), \(hash), \(PostgresJSON(stored)))
                ON CONFLICT ON CONSTRAINT message_sender_message_key DO NOTHING
                RETURNING id
                """)
            guard inserted.count == 1 else {
                let existing = try await connection.query("""
                    SELECT id, content_sha256 FROM message
                    WHERE sender = \(referral.sender.rawValue) AND sender_message_id = \(referral.senderMessageID)
                    """).single()
                let (existingID, existingHash) = try existing.decode((UUID, String).self)
                if existingHash == hash { return .duplicate(messageID: existingID) }
                try await record(.conflict, message: existingID, agency: referral.sender, actor: actor, at: now, on: connection, details: [
                    "reason": "sender message id \(referral.senderMessageID) was used before for different content"
                ])
                return .conflict(messageID: existingID)
            }
            try await record(.received, message: id, agency: referral.sender, actor: actor, at: now, on: connection, details: [
                "type": referral.type.rawValue, "senderMessageId": referral.senderMessageID,
            ])
            var deliveries: [AgencyID: UUID] = [:]
            for decision in decisions {
                switch decision {
                case .refused(let refusal):
                    try await record(.refused, message: id, agency: refusal.recipient, actor: actor, at: now, on: connection, details: [
                        "code": refusal.code.rawValue, "reason": refusal.reason,
                    ])
                case .allowed(let allowed):
                    let deliveryID = UUID()
                    var content = allowed.referral
                    content.id = id
                    try await connection.query("""
                        INSERT INTO delivery (id, message_id, recipient, state, due_at, content, created_at)
                        VALUES (\(deliveryID), \(id), \(allowed.recipient.rawValue), 'pending', \(now), \(PostgresJSON(content)), \(now))
                        """)
                    deliveries[allowed.recipient] = deliveryID
                    try await record(.routed, message: id, agency: allowed.recipient, actor: actor, at: now, on: connection, details: [
                        "legalBasis": allowed.route.legalBasis, "purpose": allowed.route.purpose,
                    ])
                    if !allowed.minimisation.isEmpty {
                        try await record(.minimised, message: id, agency: allowed.recipient, actor: actor, at: now, on: connection, details: [
                            "removed": allowed.minimisation.removed.map { "\($0.field) (\($0.category.rawValue))" }.joined(separator: ", ")
                        ])
                    }
                }
            }
            return .stored(messageID: id, deliveries: deliveries)
        }
    }

    /// Writes one event on `connection` (inside the caller's transaction).
    func record(
        _ kind: PipelineEventKind, message: UUID?, agency: AgencyID?, actor: String, at time: Date,
        on connection: PostgresConnection, details: [String: String]
    ) async throws {
        try await connection.query("""
            INSERT INTO pipeline_event (at, actor, kind, message_id, agency, details)
            VALUES (\(time), \(actor), \(kind.rawValue), \(message), \(agency?.rawValue), \(PostgresJSON(details)))
            """)
    }

    /// SHA-256 of the referral's canonical JSON (sorted keys, without Weiche's id).
    static func contentHash(_ referral: Referral) throws -> String {
        var canonical = referral
        canonical.id = nil
        return SHA256.hash(try PostgresJSONCoding.encoder().encode(canonical)).hexString
    }
}
