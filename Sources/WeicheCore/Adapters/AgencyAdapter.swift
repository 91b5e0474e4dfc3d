/// Translates between one agency's native format and Weiche's canonical ``Referral``.
///
/// Each agency's adapter is a module under `Plugins/` that imports only `WeicheCore`. The
/// gateway holds adapters as `any AgencyAdapter` in a registry the executable builds.
///
/// Implementation requirements (checked by `AdapterConformance` in `WeicheTesting`):
/// - ``decode(_:from:)`` never crashes and never traps, whatever the bytes: malformed, truncated,
///   in the wrong encoding, or far too large. Anything it cannot read becomes a
///   ``DecodedItem/rejected(_:)`` with a reason that names the position and field.
/// - One bad part of an item (a CSV row, an array element) is rejected on its own; the good
///   parts are still returned.
/// - Every field of a decoded referral carries the data category it belongs to. A field that
///   may hold diagnoses or findings is `health`, whatever the format calls it.
/// - Encoding a referral and decoding the result gives back the same referral (same
///   envelope, same fields and values), for every referral type the adapter supports.
/// - Rejection reasons and thrown errors never contain field values (personal data).
/// - Adapters are values without hidden state; they may be called from many tasks at once.
public protocol AgencyAdapter: Sendable {
    /// The name configuration uses to pick this adapter, e.g. `massarbeit-json`.
    static var name: String { get }

    /// The referral types this adapter can decode and encode.
    var supportedTypes: Set<ReferralType> { get }

    /// Reads an item that arrived on `agency`'s channel: referrals and receipts, and a rejection
    /// for each part that could not be read. Decoded referrals name `agency` as their sender
    /// (the gateway refuses any that name another: an agency cannot speak for a different one).
    func decode(_ item: InboundItem, from agency: AgencyID) -> [DecodedItem]

    /// Writes a referral (already minimised for this recipient, its id set) in the agency's format.
    func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument

    /// Writes a receipt for the agency (one of its referrals was accepted or rejected).
    func encode(_ receipt: Receipt) throws(Rejection) -> OutboundDocument
}
