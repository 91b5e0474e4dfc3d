/// One item an agency handed over: a file from its directory, or an HTTP request body.
public struct InboundItem: Hashable, Sendable {
    /// The channel's name for the item (a file name), for operators' messages.
    public var name: String
    public var bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

/// Bytes ready to deliver to an agency, with how to name and label them.
public struct OutboundDocument: Hashable, Sendable {
    public var bytes: [UInt8]
    /// The file name to deliver under. Adapters put the Weiche message id into it, so that a
    /// redelivery replaces the earlier file instead of adding a second one.
    public var fileName: String
    /// A MIME type, e.g. `application/json` or `text/csv; charset=windows-1252`.
    public var contentType: String

    public init(bytes: [UInt8], fileName: String, contentType: String) {
        self.bytes = bytes
        self.fileName = fileName
        self.contentType = contentType
    }
}

/// Why an agency's item, or one referral in it, was not accepted.
///
/// `reason` and `field` are shown to operators and written to the audit log and to the
/// sender's `.error.txt`: they name what is wrong and where, never the offending value.
public struct Rejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where in the item: `row 3` (CSV), `[2]` (a JSON array element), empty for the whole item.
    public var position: String
    /// The field concerned, if one is, by the agency's own name for it (`Geburtsdatum`).
    public var field: String?
    public var reason: String

    public init(position: String = "", field: String? = nil, reason: String) {
        self.position = position
        self.field = field
        self.reason = reason
    }

    public var description: String {
        let place = [position, field.map { "field \($0)" }].compactMap { $0 }.filter { !$0.isEmpty }
        return place.isEmpty ? reason : "\(place.joined(separator: ", ")): \(reason)"
    }
}

/// What one part of an inbound item turned out to be.
public enum DecodedItem: Hashable, Sendable {
    case referral(Referral)
    case receipt(Receipt)
    case rejected(Rejection)
}
