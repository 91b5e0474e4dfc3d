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
    public var details: [String: String]

    public init(
        _ kind: AuditEventKind, at: Date, actor: String, message: UUID? = nil, agency: AgencyID? = nil, subject: String? = nil,
        details: [String: String] = [:]
    ) {
        self.at = at
        self.actor = actor
        self.kind = kind.rawValue
        self.message = message
        self.agency = agency?.rawValue
        self.subject = subject
        self.details = details.filter { !$0.value.isEmpty }
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

    /// Appends the batch on `connection`, inside the caller's transaction: one typed array per
    /// field, entry i being the i-th element of each (migration 14).
    public func append(on connection: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        let columns = self.columns
        var bindings = PostgresBindings(reservingCapacity: 1_024 + events.count * 250)
        bindings.append(columns.ats)
        bindings.append(columns.actors)
        bindings.append(columns.kinds)
        bindings.append(columns.messages)
        bindings.append(columns.agencies)
        bindings.append(columns.subjects)
        bindings.append(columns.details)
        try await connection.query(PostgresQuery(unsafeSQL: Self.appendSQL, bindings: bindings))
    }

    /// The statement of an append: times, actors, kinds, messages, agencies, subjects and
    /// details, one array each.
    public static let appendSQL = "SELECT audit_append($1, $2, $3, $4, $5, $6, $7)"

    /// The events as `audit_append` reads them: a column per field.
    var columns: (
        ats: PostgresArray<Date>, actors: PostgresArray<String>, kinds: PostgresArray<String>, messages: PostgresArray<UUID>,
        agencies: PostgresArray<String>, subjects: PostgresArray<String>, details: PostgresArray<PostgresJSONBDocument>
    ) {
        (
            PostgresArray(events.map(\.at)), PostgresArray(events.map(\.actor)), PostgresArray(events.map(\.kind)),
            PostgresArray(events.map(\.message)), PostgresArray(events.map(\.agency)), PostgresArray(events.map(\.subject)),
            PostgresArray(events.map { PostgresJSONBDocument(Self.json(of: $0.details)) })
        )
    }

    /// Details as a JSON object, members in the order of their names.
    static func json(of details: [String: String]) -> [UInt8] {
        var output = JSONOutput(capacity: 96)
        output.byte("{")
        for (position, detail) in details.sorted(by: { $0.key < $1.key }).enumerated() {
            if position > 0 { output.byte(",") }
            output.string(detail.key)
            output.byte(":")
            output.string(detail.value)
        }
        output.byte("}")
        return output.bytes
    }
}

extension PostgresConnectionPool {
    /// Runs `body` in a transaction and appends the audit events it collected at the end of it,
    /// so the state change and its record commit together or not at all.
    public func withAuditedTransaction<Result>(
        waitingForFlush: Bool = true,
        settings: [(name: String, value: String)] = [],
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection, inout AuditBatch) async throws -> Result
    ) async throws -> Result {
        try await withTransaction(waitingForFlush: waitingForFlush, settings: settings) { connection in
            var batch = AuditBatch()
            let result = try await body(connection, &batch)
            try await batch.append(on: connection)
            return result
        }
    }
}
