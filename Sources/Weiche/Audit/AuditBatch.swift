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

    /// Appends the batch on `connection`, inside the caller's transaction.
    public func append(on connection: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        try await connection.query("SELECT audit_append(\(PostgresRawJSON(json)))")
    }

    /// The events as `audit_append` reads them: an array of objects, written directly.
    var json: [UInt8] {
        // A transaction's events mostly share one time: formatted once.
        var formatted: (at: Date, text: String)?
        return JSONOutput.array(events, bytesEach: 256) { event, output in
            if formatted?.at != event.at { formatted = (event.at, PostgresJSONCoding.format(event.at)) }
            output.raw("{\"at\":")
            output.string(formatted!.text)
            output.raw(",\"actor\":")
            output.string(event.actor)
            output.raw(",\"kind\":")
            output.string(event.kind)
            if let message = event.message {
                output.raw(",\"message\":")
                output.uuid(message)
            }
            if let agency = event.agency {
                output.raw(",\"agency\":")
                output.string(agency)
            }
            if let subject = event.subject {
                output.raw(",\"subject\":")
                output.string(subject)
            }
            output.raw(",\"details\":{")
            for (position, detail) in event.details.sorted(by: { $0.key < $1.key }).enumerated() {
                if position > 0 { output.byte(",") }
                output.string(detail.key)
                output.byte(":")
                output.string(detail.value)
            }
            output.raw("}}")
        }
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
