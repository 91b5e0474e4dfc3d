import Foundation
import WeicheCore
import WeichePostgres

/// The pipeline's durable state in PostgreSQL: messages, deliveries, attempts, and their
/// entries in the audit log.
///
/// Every change and the audit events that describe it commit together. The store decides
/// nothing about law: it stores the decisions ``Policy`` made.
public struct PipelineStore: Sendable {
    public let pool: PostgresConnectionPool
    public let clock: any GatewayClock
    /// Turns a referral's subject into the keyed hash the audit log stores; without it, messages
    /// have no subject and cannot be found by person.
    public let subjectKey: SubjectKey?

    public init(pool: PostgresConnectionPool, clock: any GatewayClock = SystemClock(), subjectKey: SubjectKey? = nil) {
        self.pool = pool
        self.clock = clock
        self.subjectKey = subjectKey
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
        let subject = subjectKey?.subject(of: referral)
        return try await pool.withAuditedTransaction { connection, audit in
            let id = UUID()
            var stored = referral
            stored.id = id
            let inserted = try await connection.query("""
                INSERT INTO message (id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose,
                                     consent_reference, in_reply_to, content_sha256, referral, subject)
                VALUES (\(id), \(referral.sender.rawValue), \(referral.senderMessageID), \(referral.type.rawValue),
                        \(referral.createdAt), \(now), \(referral.legalBasis), \(referral.purpose),
                        \(referral.consentReference), \(referral.inReplyTo), \(hash), \(PostgresJSON(stored)), \(subject))
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
                audit.add(AuditEvent(.conflict, at: now, actor: actor, message: existingID, agency: referral.sender, details: [
                    "reason": "sender message id \(referral.senderMessageID) was used before for different content"
                ]))
                return .conflict(messageID: existingID)
            }
            audit.add(AuditEvent(.received, at: now, actor: actor, message: id, agency: referral.sender, details: [
                "type": referral.type.rawValue, "senderMessageId": referral.senderMessageID,
            ]))
            var deliveries: [AgencyID: UUID] = [:]
            for decision in decisions {
                switch decision {
                case .refused(let refusal):
                    audit.add(AuditEvent(.refused, at: now, actor: actor, message: id, agency: refusal.recipient, details: [
                        "code": refusal.code.rawValue, "reason": refusal.reason,
                    ]))
                case .allowed(let allowed):
                    let deliveryID = UUID()
                    var content = allowed.referral
                    content.id = id
                    try await connection.query("""
                        INSERT INTO delivery (id, message_id, recipient, state, due_at, content, created_at)
                        VALUES (\(deliveryID), \(id), \(allowed.recipient.rawValue), 'pending', \(now), \(PostgresJSON(content)), \(now))
                        """)
                    deliveries[allowed.recipient] = deliveryID
                    audit.add(AuditEvent(.routed, at: now, actor: actor, message: id, agency: allowed.recipient, details: [
                        "legalBasis": allowed.route.legalBasis, "purpose": allowed.route.purpose,
                    ]))
                    if !allowed.minimisation.isEmpty {
                        audit.add(AuditEvent(.minimised, at: now, actor: actor, message: id, agency: allowed.recipient, details: [
                            "removed": allowed.minimisation.removed.map { "\($0.field) (\($0.category.rawValue))" }.joined(separator: ", ")
                        ]))
                    }
                }
            }
            return .stored(messageID: id, deliveries: deliveries)
        }
    }

    /// SHA-256 of the referral's canonical JSON (sorted keys, without Weiche's id).
    static func contentHash(_ referral: Referral) throws -> String {
        var canonical = referral
        canonical.id = nil
        return SHA256.hash(try PostgresJSONCoding.encoder().encode(canonical)).hexString
    }
}
