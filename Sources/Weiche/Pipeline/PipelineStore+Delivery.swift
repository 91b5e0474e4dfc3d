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
    ///
    /// A claim does not wait for its commit to reach the disk (Decision 0008): lost in a crash,
    /// the delivery is simply still pending and claimed again — what happens anyway when a
    /// worker stops between its attempt and recording the outcome. Any later commit (the
    /// attempt's outcome among them) flushes the claim first.
    ///
    /// The claim also runs without bitmap and sequential scans (``queueSettings``), so it walks
    /// its indexes whatever the statistics say. With statistics older than the backlog (a new
    /// table; autovacuum analyzes at most once a minute), PostgreSQL read every pending row and
    /// sorted them to take the first `limit`, where the ordered scan of the pending index stops
    /// after `limit` rows. And the claim is a prepared statement: a plan made while the table
    /// was nearly empty (a sequential scan for expired leases) served every later claim of the
    /// session, reading the whole table each time.
    public func claimDue(limit: Int, worker: String, lease: Duration, only ids: [UUID]? = nil) async throws -> [Claim] {
        let now = clock.now()
        let expires = now.addingTimeInterval(lease.seconds)
        return try await pool.withAuditedTransaction(waitingForFlush: false, settings: Self.queueSettings) { connection, audit in
            var bindings = PostgresBindings()
            bindings.append(now)
            if let ids { bindings.append(PostgresArray(ids)) } else { bindings.appendNull(.uuidArray) }
            bindings.append(limit)
            bindings.append(worker)
            bindings.append(expires)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: Self.claimSQL, bindings: bindings))
            var claims: [Claim] = []
            for row in rows {
                let (id, message, recipient, attempts, previousState, previousOwner, receipt, referral) = try row.decode(
                    (UUID, UUID, String, Int, String, String?, PostgresJSON<Receipt>?, PostgresJSONText?).self, from: 0)
                guard let recipientID = AgencyID(recipient) else { continue }
                let content = try Self.deliveredContent(
                    row, from: 8, referral: { try referral.map { try ReferralJSON.decode($0.bytes) } }, for: recipientID)
                if previousState == "delivering" {
                    audit.add(AuditEvent(.leaseExpired, at: now, actor: worker, message: message, agency: recipientID, details: [
                        "previousWorker": previousOwner ?? "", "attempt": String(attempts - 1),
                    ]))
                }
                claims.append(Claim(
                    deliveryID: id, messageID: message, recipient: recipientID, attempt: attempts,
                    content: content, receipt: receipt?.value, worker: worker, claimedAt: now))
            }
            return claims
        }
    }

    /// The columns of a delivery `d` that ``deliveredContent(_:from:referral:for:)`` reads.
    static let deliveredContentColumns = "d.content, array_to_string(d.categories, ','), d.legal_basis, d.purpose, d.notice"

    /// The content a delivery sends, from the columns ``deliveredContentColumns`` selects
    /// starting at `column`: made from the message's referral (asked of `referral` only then)
    /// and the delivery's terms (Decision 0012), or read as stored by deliveries written before
    /// migration 11. `nil` if the payload was erased or the delivery carries a receipt.
    static func deliveredContent(
        _ row: PostgresRow, from column: Int, referral: () throws -> Referral?, for recipient: AgencyID
    ) throws -> Referral? {
        let (stored, categories, legalBasis, purpose, notice) = try row.decode(
            (PostgresJSONText?, String?, String?, String?, String?).self, from: column)
        if let stored { return try ReferralJSON.decode(stored.bytes) }
        guard let categories, let legalBasis, let purpose, let referral = try referral() else { return nil }
        // An unknown category name allows nothing: a delivery never sends more than its terms name.
        let terms = Policy.Terms(
            categories: Set(categories.split(separator: ",").compactMap { DataCategory(rawValue: String($0)) }),
            legalBasis: legalBasis, purpose: purpose, notice: notice)
        return Policy.content(of: referral, for: recipient, under: terms).0
    }

    /// Settings of the claim's and the completion's transactions (besides the claim's not
    /// waiting for the flush): they walk their indexes, whatever the statistics and however
    /// empty the tables were when the session planned them.
    public static let queueSettings: [(name: String, value: String)] = [("enable_bitmapscan", "off"), ("enable_seqscan", "off")]

    /// The claim statement: `$1` now, `$2` only these ids (or NULL), `$3` the batch size, `$4` the
    /// worker, `$5` when its lease expires. (The benchmark's pgbench reference follows the
    /// path of claim at ingest, which needs no claim statement.)
    public static let claimSQL = """
        WITH pending AS (
            SELECT id FROM delivery WHERE state = 'pending' AND due_at <= $1
              AND ($2::uuid[] IS NULL OR id = ANY ($2::uuid[]))
            ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED
        ), expired AS (
            SELECT id FROM delivery WHERE state = 'delivering' AND lease_expires_at <= $1 AND $2::uuid[] IS NULL
            ORDER BY lease_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED
        ), due AS (
            SELECT id FROM expired UNION ALL SELECT id FROM pending LIMIT $3
        ), previous AS (
            SELECT d.id, d.state AS previous_state, d.lease_owner AS previous_owner
            FROM delivery d JOIN due USING (id)
        )
        UPDATE delivery d
        SET state = 'delivering', attempts = d.attempts + 1, lease_owner = $4, lease_expires_at = $5
        FROM previous p
        WHERE d.id = p.id
        RETURNING d.id, d.message_id, d.recipient, d.attempts, p.previous_state, p.previous_owner, d.receipt,
                  (SELECT m.referral FROM message m WHERE m.id = d.message_id), \(PipelineStore.deliveredContentColumns)
        """

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
        try await complete([claim], outcomes: [outcome], retry: { _ in policy })[0]
    }

    /// Records the attempts of many claims, with their `outcomes` (one each, in the same order),
    /// and moves each delivery on, in one transaction with three statements and one audit
    /// append, whatever the batch size. Reads the claims in place: a claim holds its referral,
    /// and each copy of it retained every one of the referral's texts (Docs/Performance.md).
    public func complete(
        _ claims: [Claim], outcomes: [DeliveryOutcome], retry policy: (AgencyID) -> GatewayConfiguration.RetryPolicy
    ) async throws -> [Completion] {
        precondition(claims.count == outcomes.count, "one outcome per claim")
        guard !claims.isEmpty else { return [] }
        let now = clock.now()
        var generator = SystemRandomNumberGenerator()
        var rows: [CompletionRow] = []
        rows.reserveCapacity(claims.count)
        for index in claims.indices {
            let attempt = claims[index].attempt
            let backoff = Backoff(policy: policy(claims[index].recipient))
            let completion: Completion = switch outcomes[index] {
            case .delivered: .delivered
            case .retryableFailure where backoff.allowsAnotherAttempt(after: attempt):
                .retryAt(now.addingTimeInterval(backoff.delay(afterAttempt: attempt, using: &generator).seconds))
            case .retryableFailure, .permanentFailure: .failed
            }
            rows.append(CompletionRow(claim: claims[index], outcome: outcomes[index], completion: completion, now: now))
        }
        // Both statements read the same rows: encoded once.
        let bindings = Self.bindings(rows)
        let finished = try await pool.withAuditedTransaction(settings: Self.queueSettings) { connection, audit in
            try await connection.query(PostgresQuery(unsafeSQL: Self.insertAttemptsSQL, bindings: bindings))
            let updated = try await connection.query(PostgresQuery(unsafeSQL: Self.completeDeliveriesSQL, bindings: bindings))
                .map { try $0.decode(UUID.self, at: 0) }
            let moved = Set(updated)
            for row in rows {
                // A successful attempt is recorded by its `delivered` entry alone, which names it;
                // every other attempt has an `attempted` entry of its own (Decision 0008).
                if row.state == "delivered" && moved.contains(row.id) {
                    audit.add(AuditEvent(.delivered, at: now, actor: row.worker, message: row.messageID, agency: row.recipient,
                                         details: ["attempts": String(row.attempt)]))
                    continue
                }
                audit.add(AuditEvent(.attempted, at: now, actor: row.worker, message: row.messageID, agency: row.recipient,
                                     details: ["attempt": String(row.attempt), "outcome": row.outcome, "error": row.error ?? ""]))
                guard moved.contains(row.id) else { continue }
                switch row.state {
                case "failed":
                    audit.add(AuditEvent(.failed, at: now, actor: row.worker, message: row.messageID, agency: row.recipient,
                                         details: ["attempts": String(row.attempt), "error": row.error ?? ""]))
                default: break
                }
            }
            return moved
        }
        return rows.map { finished.contains($0.id) ? $0.completion : .leaseLost }
    }

    /// One completed attempt, as the batch statements read it (a column each, ``bindings(_:)``).
    struct CompletionRow {
        var id: UUID
        var attempt: Int
        var worker: String
        var startedAt: Date
        var finishedAt: Date
        var outcome: String
        var error: String?
        /// The delivery's next state, and when it is due again for a retry.
        var state: String
        var dueAt: Date?
        /// For the audit entries, not the statements.
        var messageID: UUID
        var recipient: AgencyID
        var completion: Completion

        init(claim: Claim, outcome: DeliveryOutcome, completion: Completion, now: Date) {
            id = claim.deliveryID
            messageID = claim.messageID
            recipient = claim.recipient
            self.completion = completion
            attempt = claim.attempt
            worker = claim.worker
            startedAt = claim.claimedAt
            finishedAt = now
            switch outcome {
            case .delivered: (self.outcome, error) = ("delivered", nil)
            case .retryableFailure(let reason): (self.outcome, error) = ("retryable", reason)
            case .permanentFailure(let reason): (self.outcome, error) = ("permanent", reason)
            }
            switch completion {
            case .delivered: (state, dueAt) = ("delivered", nil)
            case .retryAt(let due): (state, dueAt) = ("pending", due)
            case .failed, .leaseLost: (state, dueAt) = ("failed", nil)
            }
        }
    }

    /// `$1` to `$9`: one array per column of ``completionRows``.
    static func bindings(_ rows: [CompletionRow]) -> PostgresBindings {
        var bindings = PostgresBindings(reservingCapacity: 1_024 + rows.count * 200)
        bindings.append(PostgresArray(rows.map(\.id)))
        bindings.append(PostgresArray(rows.map(\.attempt)))
        bindings.append(PostgresArray(rows.map(\.worker)))
        bindings.append(PostgresArray(rows.map(\.startedAt)))
        bindings.append(PostgresArray(rows.map(\.finishedAt)))
        bindings.append(PostgresArray(rows.map(\.outcome)))
        bindings.append(PostgresArray(rows.map(\.error)))
        bindings.append(PostgresArray(rows.map(\.state)))
        bindings.append(PostgresArray(rows.map(\.dueAt)))
        return bindings
    }

    /// The statements of a completion batch, which read the same rows (``CompletionRow``). The
    /// benchmark's pgbench reference runs these same texts (see `weiche bench`).
    ///
    /// The update runs with ``queueSettings``: as a prepared statement planned on a nearly empty
    /// table, its join became a scan of the whole table into a hash, for every batch. Under
    /// those settings it looks each row's delivery up by primary key. (It also named its rows
    /// with `d.id = ANY ($1)`: PostgreSQL then looked them up by that list and joined each to
    /// every completion row, a hundred times a hundred rows per batch.)
    static let completionRows = """
        (SELECT unnest($1::uuid[]) AS id, unnest($2::int8[]) AS attempt, unnest($3::text[]) AS worker,
                unnest($4::timestamptz[]) AS started_at, unnest($5::timestamptz[]) AS finished_at, unnest($6::text[]) AS outcome,
                unnest($7::text[]) AS error, unnest($8::text[]) AS state, unnest($9::timestamptz[]) AS due_at) AS r
        """
    public static let insertAttemptsSQL = """
        INSERT INTO delivery_attempt (delivery_id, attempt, worker, started_at, finished_at, outcome, error)
        SELECT r.id, r.attempt, r.worker, r.started_at, r.finished_at, r.outcome, r.error FROM \(completionRows)
        """
    public static let completeDeliveriesSQL = """
        UPDATE delivery d
        SET state = r.state, due_at = coalesce(r.due_at, d.due_at),
            finished_at = CASE WHEN r.state = 'pending' THEN d.finished_at ELSE r.finished_at END,
            lease_owner = NULL, lease_expires_at = NULL, last_error = r.error
        FROM \(completionRows)
        WHERE d.id = r.id AND d.state = 'delivering' AND d.lease_owner = r.worker AND d.attempts = r.attempt
        RETURNING d.id
        """
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var seconds: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
