/// The kinds of audit events. Each is appended in the same transaction as the state change it
/// describes; its details hold metadata (ids, agencies, field names, reasons), never values.
public enum AuditEventKind: String, Sendable, CaseIterable {
    /// A referral was accepted from its sender and stored.
    case received
    /// A recipient was refused (no route, consent missing), with the reason.
    case refused
    /// A recipient was allowed, with the route's legal basis and purpose.
    case routed
    /// Fields were removed for a recipient: which fields, which categories.
    case minimised
    /// The same sender message id arrived again with different content, and was refused.
    case conflict
    /// One delivery attempt ended (outcome, error).
    case attempted
    /// A delivery succeeded.
    case delivered
    /// A delivery ended in the dead-letter state.
    case failed
    /// A worker's lease expired and the delivery was claimed again.
    case leaseExpired = "lease-expired"
    /// A recipient accepted or rejected a delivered referral (outcome, code, reason).
    case receipt
    /// An operator sent a delivery again (who, why, the new delivery).
    case replayed
    /// A message's payload was erased when its retention ended (by whom, why).
    case payloadErased = "payload-erased"
    /// A person read a message's payload (who).
    case payloadRead = "payload-read"
    /// An auditor queried the audit log (who, which filter).
    case auditQuery = "audit-query"
    /// A gateway started with a configuration (its SHA-256).
    case configurationApplied = "configuration-applied"
}
