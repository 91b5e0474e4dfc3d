import Foundation
import WeicheCore
import WeichePostgres

/// Reads, verifies, queries and exports the audit log. Writing happens only through
/// ``AuditBatch`` (the database's `audit_append`).
public struct AuditLog: Sendable {
    public let pool: PostgresConnectionPool

    public init(pool: PostgresConnectionPool) {
        self.pool = pool
    }

    /// The head as recorded beside the log: the last entry's sequence number and hash.
    public func head() async throws -> AuditVerifier.Head {
        try await pool.withConnection { try await Self.head(on: $0) }
    }

    static func head(on connection: PostgresConnection) async throws -> AuditVerifier.Head {
        let (seq, hash) = try await connection.query("SELECT seq, encode(hash, 'hex') FROM audit_head").single().decode((Int64, String).self)
        return AuditVerifier.Head(seq: seq, hash: hash)
    }

    static let columns = """
        seq, (extract(epoch FROM at) * 1000000)::bigint, actor, kind, message_id::text, array_to_string(agencies, ','),
        subject, details::text, encode(hash, 'hex')
        """

    static func entry(_ row: PostgresRow) throws -> AuditEntry {
        let (seq, micros, actor, kind, message, agencies, subject, details, hash) = try row.decode(
            (Int64, Int64, String, String, String?, String, String?, String, String).self)
        return AuditEntry(
            seq: seq, atMicroseconds: micros, actor: actor, kind: kind, messageID: message,
            agencies: agencies.isEmpty ? [] : agencies.split(separator: ",").map(String.init), subject: subject, details: details, hash: hash)
    }

    /// What ``verify(anchors:pageSize:progress:)`` found.
    public struct Verification: Sendable {
        /// Entries whose hash was re-computed and matched.
        public var checked: Int
        /// The head the log recorded when the check began.
        public var head: AuditVerifier.Head
        /// The first break, or nil when the whole chain (and every anchor) holds.
        public var failure: AuditVerifier.Break?
    }

    /// Re-computes the whole chain, page by page in one snapshot, in constant memory.
    /// `progress` is called after each page with (entries checked, entries in the log).
    public func verify(
        anchors: [AuditVerifier.Head] = [], pageSize: Int = 5_000, progress: (@Sendable (Int, Int64) -> Void)? = nil
    ) async throws -> Verification {
        try await pool.withTransaction(.repeatableRead) { connection in
            let head = try await Self.head(on: connection)
            var verifier = AuditVerifier(anchors: anchors)
            var last: Int64 = 0
            while last < head.seq {
                let rows = try await connection.query("""
                    SELECT \(unsafeSQL: Self.columns) FROM audit_log WHERE seq > \(last) AND seq <= \(head.seq) ORDER BY seq LIMIT \(pageSize)
                    """)
                if rows.isEmpty { break }
                for row in rows {
                    let entry = try Self.entry(row)
                    last = entry.seq
                    if let failure = verifier.feed(entry) {
                        return Verification(checked: verifier.checked, head: head, failure: failure)
                    }
                }
                progress?(verifier.checked, head.seq)
            }
            // Entries past the recorded head would be forged: appends always move the head.
            let beyond = try await connection.query("SELECT min(seq) FROM audit_log WHERE seq > \(head.seq)").single().decode(Int64?.self, at: 0)
            if let failure = verifier.finish(head: head) {
                return Verification(checked: verifier.checked, head: head, failure: failure)
            }
            if let beyond {
                return Verification(checked: verifier.checked, head: head, failure: AuditVerifier.Break(
                    seq: beyond, kind: .inserted, explanation: "entry \(beyond) lies beyond the recorded head \(head.seq)"))
            }
            return Verification(checked: verifier.checked, head: head, failure: nil)
        }
    }

    /// Which entries an auditor asks for. Every filter given must hold.
    public struct Filter: Sendable, Equatable {
        public var message: UUID?
        /// The person, as the keyed hash ``SubjectKey`` computes.
        public var subject: String?
        public var agency: String?
        /// The referral type of the message the entry concerns.
        public var type: String?
        public var event: String?
        public var since: Date?
        public var until: Date?

        public init(message: UUID? = nil, subject: String? = nil, agency: String? = nil, type: String? = nil, event: String? = nil, since: Date? = nil, until: Date? = nil) {
            self.message = message
            self.subject = subject
            self.agency = agency
            self.type = type
            self.event = event
            self.since = since
            self.until = until
        }

        /// The filter in words, for the log of queries (the subject only as its hash).
        public var summary: [String: String] {
            var words: [String: String] = [:]
            if let message { words["message"] = message.uuidString.lowercased() }
            if let subject { words["subject"] = subject }
            if let agency { words["agency"] = agency }
            if let type { words["type"] = type }
            if let event { words["event"] = event }
            if let since { words["since"] = since.formatted(.iso8601) }
            if let until { words["until"] = until.formatted(.iso8601) }
            return words
        }
    }

    /// The entries matching `filter`, oldest first, at most `limit`.
    public func query(_ filter: Filter, limit: Int) async throws -> [AuditEntry] {
        let query: PostgresQuery = """
            SELECT \(unsafeSQL: Self.columns) FROM audit_log a
            WHERE (\(filter.message)::uuid IS NULL OR a.message_id = \(filter.message))
              AND (\(filter.subject)::text IS NULL OR a.subject = \(filter.subject))
              AND (\(filter.agency)::text IS NULL OR \(filter.agency) = ANY (a.agencies))
              AND (\(filter.type)::text IS NULL OR a.message_id IN (SELECT id FROM message_metadata WHERE type = \(filter.type)))
              AND (\(filter.event)::text IS NULL OR a.kind = \(filter.event))
              AND (\(filter.since)::timestamptz IS NULL OR a.at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR a.at <= \(filter.until))
            ORDER BY a.seq LIMIT \(limit)
            """
        return try await pool.query(query).map(Self.entry)
    }

    /// Records that `actor` queried the log, and how (the database adds its own user name).
    public func recordQuery(actor: String, details: [String: String]) async throws {
        try await pool.query("SELECT audit_record_query(\(actor), \(PostgresJSON(details)))")
    }
}
