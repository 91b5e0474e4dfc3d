import struct Foundation.UUID

/// Where an agency's items come from: a directory it writes to, an HTTP endpoint, ….
///
/// Implementation requirements:
/// - ``receive(limit:)`` returns only complete items (an agency writes, then renames; a
///   half-written file is never returned).
/// - An item returned stays available until ``acknowledge(_:outcome:)`` is called for it: the
///   gateway acknowledges only after it committed the item's referrals, so a crash in between
///   makes the item come back, and idempotency absorbs the repeat.
/// - After acknowledgement an item is never returned again.
public protocol InboundTransport: Sendable {
    /// Up to `limit` complete items not yet acknowledged, oldest first.
    func receive(limit: Int) async throws -> [InboundItem]

    /// Marks `item` as processed: `accepted`, or rejected with the reasons to leave for the
    /// agency (a directory transport writes them beside the kept file).
    func acknowledge(_ item: InboundItem, outcome: InboundOutcome) async throws
}

/// How the gateway dealt with an inbound item.
public enum InboundOutcome: Hashable, Sendable {
    /// Everything in it was stored (some parts may still have been rejected individually).
    case processed(rejections: [Rejection])
    /// Nothing in it could be used.
    case rejected([Rejection])
}

/// Where documents for an agency go.
///
/// Implementation requirements:
/// - ``deliver(_:messageID:)`` carries `messageID` to the recipient as its idempotency key
///   (in the file name, an `Idempotency-Key` header, …): delivering the same message twice
///   must have no second effect there.
/// - It reports what happened instead of throwing: ``DeliveryOutcome``.
public protocol OutboundTransport: Sendable {
    func deliver(_ document: OutboundDocument, messageID: UUID) async -> DeliveryOutcome
}

/// The result of one delivery attempt.
public enum DeliveryOutcome: Hashable, Sendable {
    case delivered
    /// Worth trying again later (timeout, 5xx, 429, network error). The text has no payload.
    case retryableFailure(String)
    /// Trying again will not help (4xx other than 408/429, a refused file).
    case permanentFailure(String)
}
