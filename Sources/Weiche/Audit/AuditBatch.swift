import Foundation
import WeicheCore
import WeichePostgres

/// One event to append to the audit log. The log adds the sequence number, the message's
/// sender and subject, and the chain hash.
public struct AuditEvent: Sendable, Codable, Equatable {
    public var at: Date
    public var actor: String
    public var kind: String
    public var message: UUID?
    public var agency: String?
    /// The person concerned, as a keyed hash (see ``SubjectKey``), when there is no message to take it from.
    public var subject: String?
    public var details: AuditDetails

    public init(
        _ kind: AuditEventKind, at: Date, actor: String, message: UUID? = nil, agency: AgencyID? = nil, subject: String? = nil,
        details: AuditDetails = [:]
    ) {
        self.at = at
        self.actor = actor
        self.kind = kind.rawValue
        self.message = message
        self.agency = agency?.rawValue
        self.subject = subject
        self.details = details
    }
}

/// An audit entry's details: names and values, kept in the order of their names, without
/// empty values, as the entry's `details` object holds them. Written like a dictionary,
/// `["attempts": "1"]`, but built as a short list: each referral adds three entries, and a
/// dictionary per entry was 1 % of the gateway's CPU (Docs/Performance.md).
public struct AuditDetails: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var members: [Member] = []

    public struct Member: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        // A later value of a repeated name wins, as in a dictionary (literals are a few names).
        var unique: [Member] = []
        unique.reserveCapacity(elements.count)
        for (name, value) in elements {
            if let index = unique.firstIndex(where: { $0.name == name }) {
                unique[index].value = value
            } else {
                unique.append(Member(name: name, value: value))
            }
        }
        self.init(unique: unique)
    }

    public init(_ dictionary: [String: String]) {
        self.init(unique: dictionary.map { Member(name: $0.key, value: $0.value) })
    }

    /// From members with different names: empty values dropped, the rest sorted by name, in
    /// place (three entries a referral build details; a new array for each step was 1 % of the
    /// gateway's CPU, Docs/Performance.md).
    private init(unique members: consuming [Member]) {
        members.removeAll { $0.value.isEmpty }
        members.sort { $0.name < $1.name }
        self.members = members
    }

    public subscript(name: String) -> String? {
        members.first { $0.name == name }?.value
    }

    public var isEmpty: Bool { members.isEmpty }
}

/// Coded as a JSON object, as `audit_append(jsonb)` reads an entry's details.
extension AuditDetails: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(try [String: String](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try Dictionary(uniqueKeysWithValues: members.map { ($0.name, $0.value) }).encode(to: encoder)
    }
}

/// The audit events of one transaction, appended together just before it commits: one call to
/// `audit_append`, which holds the chain's head for the shortest possible time.
public struct AuditBatch: Sendable {
    public private(set) var events: [AuditEvent] = []

    public init() {}

    public mutating func add(_ event: AuditEvent) {
        events.append(event)
    }

    /// The statement that appends the batch, or `nil` if it is empty: one typed array per
    /// field, entry i being the i-th element of each (migration 14). Run it last in the
    /// transaction, with its `COMMIT` (``PostgresConnectionPool/withAuditedTransaction(waitingForFlush:settings:isolation:_:)``).
    public var appendQuery: PostgresQuery? {
        guard !events.isEmpty else { return nil }
        let columns = self.columns
        var bindings = PostgresBindings(reservingCapacity: 1_024 + events.count * 250)
        bindings.append(columns.ats)
        bindings.append(columns.actors)
        bindings.append(columns.kinds)
        bindings.append(columns.messages)
        bindings.append(columns.agencies)
        bindings.append(columns.subjects)
        bindings.append(columns.details)
        return PostgresQuery(unsafeSQL: Self.appendSQL, bindings: bindings)
    }

    /// The statement of an append: times, actors, kinds, messages, agencies, subjects and
    /// details, one array each.
    public static let appendSQL = "SELECT audit_append($1, $2, $3, $4, $5, $6, $7)"

    /// The events as `audit_append` reads them: a column per field.
    var columns: (
        ats: PostgresArray<Date>, actors: PostgresArray<String>, kinds: PostgresArray<String>, messages: PostgresArray<UUID>,
        agencies: PostgresArray<String>, subjects: PostgresArray<String>, details: PostgresArray<AuditDetails>
    ) {
        (
            PostgresArray(events.map(\.at)), PostgresArray(events.map(\.actor)), PostgresArray(events.map(\.kind)),
            PostgresArray(events.map(\.message)), PostgresArray(events.map(\.agency)), PostgresArray(events.map(\.subject)),
            PostgresArray(events.map(\.details))
        )
    }
}

/// Sent as `jsonb`, written straight into the parameter's bytes: no document per entry.
extension AuditDetails: PostgresArrayElement {
    public static var elementType: PostgresDataType { .jsonb }
    public static var arrayType: PostgresDataType { .jsonbArray }
    public var postgresType: PostgresDataType { .jsonb }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(PostgresRawJSON.jsonbVersion)
        writeJSON(into: &buffer)
    }

    /// The details as a JSON object, members in the order of their names.
    func writeJSON(into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        for (position, member) in members.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONOutput.appendString(member.name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            JSONOutput.appendString(member.value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }
}

extension PostgresConnectionPool {
    /// Runs `body` in a transaction and appends the audit events it collected at the end of it,
    /// so the state change and its record commit together or not at all. The append and the
    /// `COMMIT` go in one round trip: from the append to the commit, every other appender waits
    /// for the chain's head (Docs/Performance.md).
    public func withAuditedTransaction<Result>(
        waitingForFlush: Bool = true,
        settings: [(name: String, value: String)] = [],
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection, inout AuditBatch) async throws -> Result
    ) async throws -> Result {
        try await withTransactionEndingInStatement(waitingForFlush: waitingForFlush, settings: settings) { connection in
            var batch = AuditBatch()
            let result = try await body(connection, &batch)
            return (result, batch.appendQuery)
        }
    }
}
