import struct Foundation.Date
import struct Foundation.UUID

/// A referral in Weiche's canonical form: the envelope every route decision needs, and the
/// content as fields, each labelled with its data category.
///
/// Adapters produce it from an agency's bytes and encode it back; the engine never looks
/// inside an agency's format.
public struct Referral: Hashable, Sendable, Codable {
    /// Weiche's message id. `nil` until the gateway has stored the referral; the encoder of a
    /// delivered referral always gets it set.
    public var id: UUID?
    /// The sender's own message id: the idempotency key, unique per sender.
    public var senderMessageID: String
    public var type: ReferralType
    public var sender: AgencyID
    /// Where the sender wants it to go. Policy decides, per recipient, whether it may.
    public var recipients: [AgencyID]
    public var createdAt: Date
    /// The legal basis the sender names, in words (e.g. "§ 69 Abs. 1 Nr. 1 SGB X").
    public var legalBasis: String
    public var purpose: String
    /// The sender's reference to the data subject's consent, where there is one.
    public var consentReference: String?
    /// The message this one answers: the Weiche message id or the sender message id of a
    /// referral the sender received.
    public var inReplyTo: String?
    /// A notice the route attaches to every delivery to this recipient, e.g. the purpose
    /// binding of § 78 SGB X for a recipient that is not a public body. Set by policy from the
    /// configuration, never taken from the sender.
    public var notice: String?
    /// The content, in the order the adapter read it.
    public var fields: [ReferralField]

    public init(
        id: UUID? = nil, senderMessageID: String, type: ReferralType, sender: AgencyID, recipients: [AgencyID],
        createdAt: Date, legalBasis: String, purpose: String, consentReference: String? = nil,
        inReplyTo: String? = nil, notice: String? = nil, fields: [ReferralField]
    ) {
        self.id = id
        self.senderMessageID = senderMessageID
        self.type = type
        self.sender = sender
        self.recipients = recipients
        self.createdAt = createdAt
        self.legalBasis = legalBasis
        self.purpose = purpose
        self.consentReference = consentReference
        self.inReplyTo = inReplyTo
        self.notice = notice
        self.fields = fields
    }

    /// The value of the field named `name`, if present.
    public subscript(field name: String) -> FieldValue? {
        fields.first { $0.name.isSameName(as: name) }?.value
    }

    /// The categories the referral's content uses.
    public var categories: Set<DataCategory> { Set(fields.map(\.category)) }
}

/// What minimisation removed from a referral: field names and their categories, never values.
public struct Minimisation: Hashable, Sendable, Codable {
    public struct Removal: Hashable, Sendable, Codable {
        public var field: String
        public var category: DataCategory

        public init(field: String, category: DataCategory) {
            self.field = field
            self.category = category
        }
    }

    public var removed: [Removal]
    public var isEmpty: Bool { removed.isEmpty }
}

extension Referral {
    /// The referral with every field outside `allowed` removed, and a record of the removal.
    public func minimised(to allowed: Set<DataCategory>) -> (Referral, Minimisation) {
        let mask = DataCategoryMask(allowed)
        var kept = self
        kept.fields = []
        kept.fields.reserveCapacity(fields.count)
        var removed: [Minimisation.Removal] = []
        for field in fields {
            if mask.contains(field.category) {
                kept.fields.append(field)
            } else {
                removed.append(Minimisation.Removal(field: field.name, category: field.category))
            }
        }
        return (kept, Minimisation(removed: removed))
    }
}
