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
        try await ingest([(referral, decisions)], actor: actor)[0]
    }

    /// Stores many referrals in one transaction: one statement for the messages, one for their
    /// deliveries, one audit append — whatever the batch size. Each referral is idempotent on
    /// its own (the same sender message id again is a duplicate, or a conflict if its content
    /// differs), also within the batch.
    public func ingest(_ batch: [(referral: Referral, decisions: [Policy.Decision])], actor: String) async throws -> [IngestOutcome] {
        try await ingest(batch, actor: actor, claimingFor: nil).outcomes
    }

    /// Who takes the deliveries an ingest creates, and for how long.
    public struct IngestClaim: Sendable {
        public var worker: String
        public var lease: Duration

        public init(worker: String, lease: Duration) {
            self.worker = worker
            self.lease = lease
        }
    }

    /// Stores many referrals in one transaction, as ``ingest(_:actor:)`` does; with `claimant`,
    /// the deliveries it creates are claimed for that worker in the same transaction, so that
    /// it can attempt them the moment the transaction commits, with no claim of its own
    /// (Decision 0009). Should the worker never report, the lease expires and any worker takes
    /// them over, as after a crash during an attempt.
    public func ingest(
        _ batch: [(referral: Referral, decisions: [Policy.Decision])], actor: String, claimingFor claimant: IngestClaim?
    ) async throws -> (outcomes: [IngestOutcome], claims: [Claim]) {
        guard !batch.isEmpty else { return ([], []) }
        let now = clock.now()
        // The batch is read in place, by index: binding its elements in a `for` pattern copied
        // each referral, retaining every one of its texts (Docs/Performance.md).
        var messages: [MessageRow] = []
        messages.reserveCapacity(batch.count)
        for index in batch.indices {
            messages.append(MessageRow.of(batch[index].referral, id: UUID.timeOrdered(at: now), receivedAt: now, subjectKey: subjectKey))
        }
        // Optimistically: a sender's message id is nearly always new, and a plain insert costs
        // the database about 8 µs a message less than one that skips known ids (`ON CONFLICT`
        // inserts speculatively and confirms each row in the WAL; Docs/Performance.md). Nothing
        // then depends on what the database answers, so the whole transaction goes in one round
        // trip. A batch with a known id fails on the key before anything else is written, and
        // goes again, statement by statement.
        let all = Set(messages.map(\.id))
        let plan = try plan(messages, of: batch, inserted: all, existing: [:], at: now, actor: actor, claimingFor: claimant)
        do {
            try await pool.transaction([PostgresQuery(unsafeSQL: Self.insertMessagesSQL, bindings: MessageRow.bindings(messages))]
                + [plan.deliveries, plan.audit.appendQuery].compactMap { $0 })
            return (plan.outcomes, plan.claims)
        } catch let error as PostgresError where error.sqlState == "23505" && error.constraintName == "message_sender_message_key" {
            return try await storeSkippingKnown(messages, of: batch, at: now, actor: actor, claimingFor: claimant)
        }
    }

    /// One ingest transaction for a batch that holds a sender's message id stored before: the
    /// messages whose id is new, their deliveries, the audit; the others are found as resends
    /// or conflicts.
    private func storeSkippingKnown(
        _ messages: [MessageRow], of batch: [(referral: Referral, decisions: [Policy.Decision])], at now: Date, actor: String,
        claimingFor claimant: IngestClaim?
    ) async throws -> (outcomes: [IngestOutcome], claims: [Claim]) {
        try await pool.withAuditedTransaction { connection, audit in
            let inserted = Set(try await connection.query(PostgresQuery(unsafeSQL: Self.insertNewMessagesSQL, bindings: MessageRow.bindings(messages)))
                .map { try $0.decode(UUID.self, at: 0) })
            var existing: [String: (UUID, String)] = [:]
            if inserted.count < messages.count {
                let keys = messages.filter { !inserted.contains($0.id) }.map { MessageKey(sender: $0.sender, senderMessageId: $0.senderMessageId) }
                for row in try await connection.query(PostgresQuery(unsafeSQL: Self.findMessagesSQL, bindings: Self.json(keys))) {
                    let (id, sender, senderID, hash) = try row.decode((UUID, String, String, String).self)
                    existing[sender + "\u{0}" + senderID] = (id, hash)
                }
            }
            let plan = try plan(messages, of: batch, inserted: inserted, existing: existing, at: now, actor: actor, claimingFor: claimant)
            if let deliveries = plan.deliveries { try await connection.query(deliveries) }
            audit = plan.audit
            return (plan.outcomes, plan.claims)
        }
    }

    /// What an ingest writes besides the messages, and what it reports.
    private struct IngestPlan {
        var outcomes: [IngestOutcome] = []
        /// The statement inserting the deliveries; `nil` if there are none.
        var deliveries: PostgresQuery?
        var audit = AuditBatch()
        var claims: [Claim] = []
    }

    /// The plan for `messages`, given which of them were `inserted` and the id and content hash
    /// of those `existing` before (by sender and sender's message id). Writes nothing.
    private func plan(
        _ messages: [MessageRow], of batch: [(referral: Referral, decisions: [Policy.Decision])], inserted: Set<UUID>,
        existing: [String: (UUID, String)], at now: Date, actor: String, claimingFor claimant: IngestClaim?
    ) throws -> IngestPlan {
        var plan = IngestPlan()
        var deliveries: [DeliveryRow] = []
        for index in messages.indices {
            let messageID = messages[index].id
            guard inserted.contains(messageID) else {
                let (message, referral) = (messages[index], batch[index].referral)
                guard let (existingID, existingHash) = existing[message.sender + "\u{0}" + message.senderMessageId] else {
                    throw WeicheError(.conflict, "message \(message.senderMessageId) from \(message.sender) was neither stored nor found")
                }
                if existingHash == message.contentSha256 {
                    plan.outcomes.append(.duplicate(messageID: existingID))
                } else {
                    plan.audit.add(AuditEvent(.conflict, at: now, actor: actor, message: existingID, agency: referral.sender, details: [
                        "reason": "sender message id \(referral.senderMessageID) was used before for different content"
                    ]))
                    plan.outcomes.append(.conflict(messageID: existingID))
                }
                continue
            }
            plan.audit.add(AuditEvent(.received, at: now, actor: actor, message: messageID, agency: batch[index].referral.sender, details: [
                "type": messages[index].type, "senderMessageId": messages[index].senderMessageId,
            ]))
            var created: [AgencyID: UUID] = [:]
            for decision in batch[index].decisions {
                switch decision {
                case .refused(let refusal):
                    plan.audit.add(AuditEvent(.refused, at: now, actor: actor, message: messageID, agency: refusal.recipient, details: [
                        "code": refusal.code.rawValue, "reason": refusal.reason,
                    ]))
                case .allowed(let allowed):
                    var content = allowed.referral
                    content.id = messageID
                    let deliveryID = UUID.timeOrdered(at: now)
                    deliveries.append(DeliveryRow(
                        id: deliveryID, messageId: messageID, recipient: allowed.recipient, referral: content, terms: allowed.terms))
                    created[allowed.recipient] = deliveryID
                    plan.audit.add(AuditEvent(.routed, at: now, actor: actor, message: messageID, agency: allowed.recipient, details: [
                        "legalBasis": allowed.route.legalBasis, "purpose": allowed.route.purpose,
                    ]))
                    if !allowed.minimisation.isEmpty {
                        plan.audit.add(AuditEvent(.minimised, at: now, actor: actor, message: messageID, agency: allowed.recipient, details: [
                            "removed": allowed.minimisation.removed.map { "\($0.field) (\($0.category.rawValue))" }.joined(separator: ", ")
                        ]))
                    }
                }
            }
            plan.outcomes.append(.stored(messageID: messageID, deliveries: created))
        }
        guard !deliveries.isEmpty else { return plan }
        var bindings = DeliveryRow.bindings(deliveries)
        bindings.append(now)
        if let claimant {
            bindings.append(claimant.worker)
            bindings.append(now.addingTimeInterval(claimant.lease.seconds))
        } else {
            bindings.appendNull(.text)
            bindings.appendNull(.timestamptz)
        }
        plan.deliveries = PostgresQuery(unsafeSQL: Self.insertDeliveriesSQL, bindings: bindings)
        guard let claimant else { return plan }
        // The content as a worker's claim would read it back, without reading the bytes just written.
        plan.claims = deliveries.map { delivery in
            Claim(deliveryID: delivery.id, messageID: delivery.messageId, recipient: delivery.recipient, attempt: 1,
                  content: ReferralJSON.asStored(delivery.referral), receipt: nil, worker: claimant.worker, claimedAt: now)
        }
        return plan
    }

    /// A message as the insert statement reads it, the referral already JSON.
    struct MessageRow {
        var id: UUID
        var sender: String
        var senderMessageId: String
        var type: String
        var sentAt: Date
        var receivedAt: Date
        var legalBasis: String
        var purpose: String
        var consentReference: String?
        var inReplyTo: String?
        var contentSha256: String
        var referral: [UInt8]
        var subject: String?

        /// The row of `referral`, stored as `id` at `receivedAt`.
        static func of(_ referral: Referral, id: UUID, receivedAt: Date, subjectKey: SubjectKey?) -> MessageRow {
            let forms = ReferralJSON.encodeStoredAndCanonical(referral, id: id)
            return MessageRow(
                id: id, sender: referral.sender.rawValue, senderMessageId: referral.senderMessageID, type: referral.type.rawValue,
                sentAt: referral.createdAt, receivedAt: receivedAt, legalBasis: referral.legalBasis, purpose: referral.purpose,
                consentReference: referral.consentReference, inReplyTo: referral.inReplyTo,
                contentSha256: SHA256.hash(forms.canonical).hexString, referral: forms.stored, subject: subjectKey?.subject(of: referral))
        }

        /// `$1` to `$13`: one array per column, in the statement's order.
        static func bindings(_ rows: [MessageRow]) -> PostgresBindings {
            // The referrals and about 300 bytes of other columns per row (with array overhead).
            var bindings = PostgresBindings(reservingCapacity: rows.reduce(1_024) { $0 + $1.referral.count + 400 })
            bindings.append(PostgresArray(rows.map(\.id)))
            bindings.append(PostgresArray(rows.map(\.sender)))
            bindings.append(PostgresArray(rows.map(\.senderMessageId)))
            bindings.append(PostgresArray(rows.map(\.type)))
            bindings.append(PostgresArray(rows.map(\.sentAt)))
            bindings.append(PostgresArray(rows.map(\.receivedAt)))
            bindings.append(PostgresArray(rows.map(\.legalBasis)))
            bindings.append(PostgresArray(rows.map(\.purpose)))
            bindings.append(PostgresArray(rows.map(\.consentReference)))
            bindings.append(PostgresArray(rows.map(\.inReplyTo)))
            bindings.append(PostgresArray(rows.map(\.contentSha256)))
            bindings.append(PostgresArray(rows.map { PostgresJSONDocument($0.referral) }))
            bindings.append(PostgresArray(rows.map(\.subject)))
            return bindings
        }
    }

    struct MessageKey: Codable {
        var sender: String
        var senderMessageId: String
    }

    /// A delivery as the insert statement reads it: the terms its content is made under, not
    /// the content (Decision 0012).
    struct DeliveryRow {
        var id: UUID
        var messageId: UUID
        var recipient: AgencyID
        /// The content as a value, for a claim at ingest.
        var referral: Referral
        var terms: Policy.Terms

        /// `$1` to `$7`: one array per column, in the statement's order. The categories of a
        /// delivery go as one text, their names joined by commas (an array cannot hold arrays
        /// of different lengths); category names are identifiers without commas.
        static func bindings(_ rows: [DeliveryRow]) -> PostgresBindings {
            var bindings = PostgresBindings(reservingCapacity: 1_024 + rows.count * 300)
            bindings.append(PostgresArray(rows.map(\.id)))
            bindings.append(PostgresArray(rows.map(\.messageId)))
            bindings.append(PostgresArray(rows.map(\.recipient.rawValue)))
            bindings.append(PostgresArray(rows.map { $0.terms.categoryNames.joined(separator: ",") }))
            bindings.append(PostgresArray(rows.map(\.terms.legalBasis)))
            bindings.append(PostgresArray(rows.map(\.terms.purpose)))
            bindings.append(PostgresArray(rows.map(\.terms.notice)))
            return bindings
        }
    }

    static func json<Rows: Codable & Sendable>(_ rows: Rows) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(PostgresJSON(rows))
        return bindings
    }

    /// The ingest statements. Each takes its rows as one array per column (binary parameters:
    /// nothing for PostgreSQL to parse but the referrals, which it checks as `json` and stores
    /// as the text they are, Decision 0011). The arrays are unnested in the select list, in
    /// step: in `FROM`, each array's elements would be copied into a tuple store of their own
    /// first (7.6 against 5.1 µs a message row). The benchmark's pgbench reference runs these
    /// same texts (see `weiche bench`).
    ///
    /// Every message of the batch, or an error on `message_sender_message_key` when a sender's
    /// message id is stored already (the batch then goes again with ``insertNewMessagesSQL``).
    public static let insertMessagesSQL = """
        INSERT INTO message (id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose,
                             consent_reference, in_reply_to, content_sha256, referral, subject)
        SELECT unnest($1::uuid[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::timestamptz[]),
               unnest($6::timestamptz[]), unnest($7::text[]), unnest($8::text[]), unnest($9::text[]), unnest($10::text[]),
               unnest($11::text[]), unnest($12::json[]), unnest($13::text[])
        RETURNING id
        """
    /// The messages whose sender's message id is not stored yet; the others are looked up
    /// (``findMessagesSQL``) as resends or conflicts.
    static let insertNewMessagesSQL = insertMessagesSQL.replacingOccurrences(
        of: "\nRETURNING id", with: "\nON CONFLICT ON CONSTRAINT message_sender_message_key DO NOTHING\nRETURNING id")
    static let findMessagesSQL = """
        SELECT m.id, m.sender, m.sender_message_id, m.content_sha256
        FROM message m JOIN jsonb_to_recordset($1::jsonb) AS k(sender text, "senderMessageId" text)
          ON m.sender = k.sender AND m.sender_message_id = k."senderMessageId"
        """
    /// `$1` to `$7` are the rows' columns (``DeliveryRow``), `$8` now; `$9` and `$10` the
    /// worker that claims the new deliveries and when its lease expires, or NULL to leave them
    /// pending for any worker.
    public static let insertDeliveriesSQL = """
        INSERT INTO delivery (id, message_id, recipient, state, attempts, lease_owner, lease_expires_at, due_at,
                              categories, legal_basis, purpose, notice, created_at)
        SELECT d.id, d.message_id, d.recipient, CASE WHEN $9::text IS NULL THEN 'pending' ELSE 'delivering' END,
               CASE WHEN $9::text IS NULL THEN 0 ELSE 1 END, $9::text, $10::timestamptz, $8,
               string_to_array(d.categories, ','), d.legal_basis, d.purpose, d.notice, $8
        FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::uuid[]) AS message_id, unnest($3::text[]) AS recipient,
                     unnest($4::text[]) AS categories, unnest($5::text[]) AS legal_basis, unnest($6::text[]) AS purpose,
                     unnest($7::text[]) AS notice) AS d
        """
}
