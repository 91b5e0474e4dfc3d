import Foundation
import WeicheCore
import WeichePostgres

extension PipelineStore {
    /// What became of a receipt handed to ``recordReceipt(_:actor:)``.
    public enum ReceiptOutcome: Sendable, Equatable {
        /// Recorded, and queued for delivery to the referral's sender.
        case recorded(messageID: UUID)
        /// The same receipt was recorded before.
        case duplicate(messageID: UUID)
        /// No referral delivered to the receipt's issuer has that Weiche message id.
        case unknownReference
    }

    /// Records a recipient's receipt for a referral it was delivered, and queues the receipt for
    /// delivery to the referral's sender, in one transaction.
    public func recordReceipt(_ receipt: Receipt, actor: String) async throws -> ReceiptOutcome {
        guard let messageID = UUID(parsing: receipt.reference) else { return .unknownReference }
        let now = clock.now()
        return try await pool.withAuditedTransaction { connection, audit in
            let found = try await connection.query("""
                SELECT m.sender, m.sender_message_id FROM message m JOIN delivery d ON d.message_id = m.id AND d.kind = 'referral'
                WHERE m.id = \(messageID) AND d.recipient = \(receipt.from.rawValue)
                """)
            guard let row = found.first, let sender = AgencyID(try row.decode(String.self, at: 0)) else { return .unknownReference }
            // The sender knows its referral by its own message id, not by Weiche's.
            var receipt = receipt
            receipt.referralSenderMessageID = try row.decode(String.self, at: 1)
            let inserted = try await connection.query("""
                INSERT INTO delivery (id, message_id, recipient, state, due_at, created_at, kind, receipt_from, receipt)
                VALUES (\(UUID.timeOrdered(at: now)), \(messageID), \(sender.rawValue), 'pending', \(now), \(now), 'receipt', \(receipt.from.rawValue),
                        \(PostgresJSON(receipt)))
                ON CONFLICT DO NOTHING
                """)
            guard inserted.affectedRows == 1 else { return .duplicate(messageID: messageID) }
            let details = receipt.outcome.entries.merging(["to": sender.rawValue]) { first, _ in first }
            audit.add(AuditEvent(.receipt, at: now, actor: actor, message: messageID, agency: receipt.from, details: AuditDetails(details)))
            return .recorded(messageID: messageID)
        }
    }
}
