import Foundation
import WeicheCore
import WeichePostgres

extension PipelineStore {
    /// A delivery a worker holds under a lease until it reports the attempt's outcome.
    public struct Claim: Sendable, Equatable {
        public var deliveryID: UUID
        public var messageID: UUID
        public var recipient: AgencyID
        /// This attempt's number, from 1.
        public var attempt: Int
        /// The referral minimised for the recipient; `nil` if its payload was erased, or if
        /// this delivery carries a receipt.
        public var content: Referral?
        /// The receipt this delivery carries back to the referral's sender, if it is one.
        public var receipt: Receipt?
        public var worker: String
        public var claimedAt: Date
    }

    /// Claims up to `limit` deliveries that are due, and those whose previous holder's lease
    /// expired, for `worker`, until `lease` from now. Concurrent workers never claim the same
    /// delivery (`FOR UPDATE SKIP LOCKED`). With `only`, just those deliveries, if they are
    /// pending and due (a replay delivering what it created; expired leases are left to workers).
    public func claimDue(limit: Int, worker: String, lease: Duration, only ids: [UUID]? = nil) async throws -> [Claim] {
        let now = clock.now()
        let expires = now.addingTimeInterval(lease.seconds)
        return try await pool.withAuditedTransaction { connection, audit in
            let rows = try await connection.query("""
                WITH pending AS (
                    SELECT id FROM delivery WHERE state = 'pending' AND due_at <= \(now)
                      AND (\(ids.map(PostgresArray.init))::uuid[] IS NULL OR id = ANY (\(ids.map(PostgresArray.init))))
                    ORDER BY due_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ), expired AS (
                    SELECT id FROM delivery WHERE state = 'delivering' AND lease_expires_at <= \(now)
                      AND \(ids.map(PostgresArray.init))::uuid[] IS NULL
                    ORDER BY lease_expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ), due AS (
                    SELECT id FROM expired UNION ALL SELECT id FROM pending LIMIT \(limit)
                ), previous AS (
                    SELECT d.id, d.state AS previous_state, d.lease_owner AS previous_owner
                    FROM delivery d JOIN due USING (id)
                )
                UPDATE delivery d
                SET state = 'delivering', attempts = d.attempts + 1, lease_owner = \(worker), lease_expires_at = \(expires)
                FROM previous p
                WHERE d.id = p.id
                RETURNING d.id, d.message_id, d.recipient, d.attempts, d.content, p.previous_state, p.previous_owner, d.receipt
                """)
            var claims: [Claim] = []
            for row in rows {
                let (id, message, recipient, attempts, content, previousState, previousOwner, receipt) = try row.decode(
                    (UUID, UUID, String, Int, PostgresJSON<Referral>?, String, String?, PostgresJSON<Receipt>?).self)
                guard let recipientID = AgencyID(recipient) else { continue }
                if previousState == "delivering" {
                    audit.add(AuditEvent(.leaseExpired, at: now, actor: worker, message: message, agency: recipientID, details: [
                        "previousWorker": previousOwner ?? "", "attempt": String(attempts - 1),
                    ]))
                }
                claims.append(Claim(
                    deliveryID: id, messageID: message, recipient: recipientID, attempt: attempts,
                    content: content?.value, receipt: receipt?.value, worker: worker, claimedAt: now))
            }
            return claims
        }
    }

    /// What ``complete(_:outcome:retry:)`` did with the delivery.
    public enum Completion: Sendable, Equatable {
        case delivered
        /// Another attempt is due at this time.
        case retryAt(Date)
        /// The delivery failed for good (dead letter).
        case failed
        /// The lease had already passed to another worker: the attempt is recorded, the
        /// delivery's state is that worker's to set.
        case leaseLost
    }

    /// Records the attempt a claim made and moves the delivery on: delivered, due again after a
    /// backoff, or failed. All in one transaction, with its events.
    @discardableResult
    public func complete(
        _ claim: Claim, outcome: DeliveryOutcome, retry policy: GatewayConfiguration.RetryPolicy
    ) async throws -> Completion {
        let now = clock.now()
        let (kind, error): (String, String?) = switch outcome {
        case .delivered: ("delivered", nil)
        case .retryableFailure(let reason): ("retryable", reason)
        case .permanentFailure(let reason): ("permanent", reason)
        }
        let backoff = Backoff(policy: policy)
        var generator = SystemRandomNumberGenerator()
        let completion: Completion = switch outcome {
        case .delivered: .delivered
        case .retryableFailure where backoff.allowsAnotherAttempt(after: claim.attempt):
            .retryAt(now.addingTimeInterval(backoff.delay(afterAttempt: claim.attempt, using: &generator).seconds))
        case .retryableFailure, .permanentFailure: .failed
        }
        return try await pool.withAuditedTransaction { connection, audit in
            try await connection.query("""
                INSERT INTO delivery_attempt (delivery_id, attempt, worker, started_at, finished_at, outcome, error)
                VALUES (\(claim.deliveryID), \(claim.attempt), \(claim.worker), \(claim.claimedAt), \(now), \(kind), \(error))
                """)
            audit.add(AuditEvent(.attempted, at: now, actor: claim.worker, message: claim.messageID, agency: claim.recipient,
                                 details: ["attempt": String(claim.attempt), "outcome": kind, "error": error ?? ""]))
            let updated: PostgresRows
            switch completion {
            case .delivered:
                updated = try await connection.query("""
                    UPDATE delivery SET state = 'delivered', finished_at = \(now), lease_owner = NULL, lease_expires_at = NULL,
                                        last_error = NULL
                    WHERE id = \(claim.deliveryID) AND state = 'delivering' AND lease_owner = \(claim.worker)
                      AND attempts = \(claim.attempt)
                    """)
            case .retryAt(let due):
                updated = try await connection.query("""
                    UPDATE delivery SET state = 'pending', due_at = \(due), lease_owner = NULL, lease_expires_at = NULL,
                                        last_error = \(error)
                    WHERE id = \(claim.deliveryID) AND state = 'delivering' AND lease_owner = \(claim.worker)
                      AND attempts = \(claim.attempt)
                    """)
            case .failed, .leaseLost:
                updated = try await connection.query("""
                    UPDATE delivery SET state = 'failed', finished_at = \(now), lease_owner = NULL, lease_expires_at = NULL,
                                        last_error = \(error)
                    WHERE id = \(claim.deliveryID) AND state = 'delivering' AND lease_owner = \(claim.worker)
                      AND attempts = \(claim.attempt)
                    """)
            }
            guard updated.affectedRows == 1 else { return .leaseLost }
            switch completion {
            case .delivered:
                audit.add(AuditEvent(.delivered, at: now, actor: claim.worker, message: claim.messageID, agency: claim.recipient,
                                     details: ["attempts": String(claim.attempt)]))
            case .failed:
                audit.add(AuditEvent(.failed, at: now, actor: claim.worker, message: claim.messageID, agency: claim.recipient,
                                     details: ["attempts": String(claim.attempt), "error": error ?? ""]))
            case .retryAt, .leaseLost:
                break
            }
            return completion
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var seconds: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
