import struct Foundation.Date

/// A recipient's business answer to a delivered referral: accepted, or rejected with a reason.
/// It travels back to the referral's sender and into the audit log.
public struct Receipt: Hashable, Sendable, Codable {
    public enum Outcome: Hashable, Sendable, Codable {
        case accepted
        /// Rejected, with the recipient's reason code and its text (no personal data).
        case rejected(code: String, reason: String)

        /// `outcome` (`accepted` or `rejected`), and for a rejection `code` and `reason`: for
        /// records and simple formats.
        public var entries: [String: String] {
            switch self {
            case .accepted: ["outcome": "accepted"]
            case .rejected(let code, let reason): ["outcome": "rejected", "code": code, "reason": reason]
            }
        }
    }

    /// The message the receipt is about, as the recipient knows it (Weiche's message id).
    public var reference: String
    /// The agency that issued the receipt.
    public var from: AgencyID
    /// The receipt's own id in the recipient's system, if it has one.
    public var senderMessageID: String?
    public var outcome: Outcome
    public var issuedAt: Date
    /// The referral as its sender knows it: the sender's own message id. Weiche sets it when
    /// it delivers the receipt to that sender, who never saw the Weiche message id.
    public var referralSenderMessageID: String?

    public init(
        reference: String, from: AgencyID, senderMessageID: String? = nil, outcome: Outcome, issuedAt: Date,
        referralSenderMessageID: String? = nil
    ) {
        self.reference = reference
        self.from = from
        self.senderMessageID = senderMessageID
        self.outcome = outcome
        self.issuedAt = issuedAt
        self.referralSenderMessageID = referralSenderMessageID
    }
}
