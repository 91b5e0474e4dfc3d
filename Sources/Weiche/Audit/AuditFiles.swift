import Foundation
import WeicheCore
import WeichePostgres

/// A head of the audit log written down outside the database, so that a later rewrite of the
/// log — even one by a superuser who re-hashes everything after it — is detected.
///
/// An anchor file holds one anchor per line (JSON); `weiche audit anchor --output FILE` adds a
/// line, so a file kept by a routine holds the log's history of heads.
public struct AuditAnchor: Codable, Sendable, Equatable {
    public static let formatName = "weiche-audit-anchor/1"
    public var format: String
    public var seq: Int64
    public var hash: String
    public var anchoredAt: Date

    public init(head: AuditVerifier.Head, anchoredAt: Date) {
        format = Self.formatName
        seq = head.seq
        hash = head.hash
        self.anchoredAt = anchoredAt
    }

    public var head: AuditVerifier.Head { AuditVerifier.Head(seq: seq, hash: hash) }

    /// The anchor as one line of JSON.
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Reads an anchor file: one anchor per non-empty line. Errors name the line.
    public static func read(_ bytes: [UInt8]) throws -> [AuditAnchor] {
        guard bytes.count <= 10 << 20 else {
            throw WeicheError(.invalidInput, "the anchor file is larger than 10 MiB")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var anchors: [AuditAnchor] = []
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { !($0 == 0x20 || $0 == 0x0D || $0 == 0x09) }) else { continue }
            guard let anchor = try? decoder.decode(AuditAnchor.self, from: Data(line)), anchor.format == formatName,
                anchor.seq >= 0, anchor.hash.hexBytes?.count == 32
            else {
                throw WeicheError(.invalidInput, "anchor file, line \(index + 1): not an anchor written by 'weiche audit anchor' (\(formatName))")
            }
            anchors.append(anchor)
        }
        guard !anchors.isEmpty else { throw WeicheError(.invalidInput, "the anchor file holds no anchor") }
        return anchors
    }
}

/// A self-verifying extract of the audit log: a header with the hash before its first entry,
/// then the entries with their hashes, one JSON object per line. ``verify(_:anchors:)`` checks
/// it without the database.
public enum AuditExport {
    public static let formatName = "weiche-audit-export/1"

    public struct Header: Codable, Sendable, Equatable {
        public var format: String
        public var exportedAt: Date
        /// The first and last sequence numbers in the file (0 and 0 when it is empty).
        public var firstSeq: Int64
        public var lastSeq: Int64
        /// The hash of the entry before the first (64 zeros for the log's start).
        public var previousHash: String
        /// The log's head when the export was made.
        public var headSeq: Int64
        public var headHash: String
    }

    /// Writes the entries from the first appended at or after `since` to the last appended at or
    /// before `until` (a contiguous run of sequence numbers) to `path`, atomically.
    @discardableResult
    public static func write(
        from log: AuditLog, since: Date?, until: Date?, to path: String, pageSize: Int = 5_000
    ) async throws -> Header {
        try await log.pool.withTransaction(.repeatableRead) { connection in
            let head = try await AuditLog.head(on: connection)
            let (first, last) = try await connection.query("""
                SELECT coalesce((SELECT min(seq) FROM audit_log WHERE \(since)::timestamptz IS NULL OR at >= \(since)), 0),
                       coalesce((SELECT max(seq) FROM audit_log WHERE seq <= \(head.seq) AND (\(until)::timestamptz IS NULL OR at <= \(until))), 0)
                """).single().decode((Int64, Int64).self)
            let empty = first == 0 || last < first
            var previous = AuditEntry.genesisHash
            if !empty && first > 1 {
                previous = try await connection.query("SELECT encode(hash, 'hex') FROM audit_log WHERE seq = \(first - 1)").single().decode(String.self, at: 0)
            }
            let header = Header(
                format: formatName, exportedAt: Date(), firstSeq: empty ? 0 : first, lastSeq: empty ? 0 : last,
                previousHash: previous, headSeq: head.seq, headHash: head.hash)
            let temporary = path + ".partial"
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
                throw WeicheError(.system, "cannot create \(temporary)")
            }
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                try handle.write(contentsOf: encoder.encode(header) + Data("\n".utf8))
                var after = first - 1
                while !empty && after < last {
                    let rows = try await connection.query("""
                        SELECT \(unsafeSQL: AuditLog.columns) FROM audit_log WHERE seq > \(after) AND seq <= \(last) ORDER BY seq LIMIT \(pageSize)
                        """)
                    if rows.isEmpty { break }
                    var chunk = Data()
                    for row in rows {
                        let entry = try AuditLog.entry(row)
                        chunk += try encoder.encode(entry) + Data("\n".utf8)
                        after = entry.seq
                    }
                    try handle.write(contentsOf: chunk)
                }
                try handle.synchronize()
                try handle.close()
                guard rename(temporary, path) == 0 else { throw WeicheError(.system, "cannot rename \(temporary) to \(path)") }
            } catch {
                try? handle.close()
                unlink(temporary)
                throw error
            }
            return header
        }
    }

    /// What ``verify(_:anchors:)`` found.
    public struct Verification: Sendable {
        public var header: Header
        public var checked: Int
        public var failure: AuditVerifier.Break?
    }

    /// Checks an export file on its own: the chain from its starting hash through every entry,
    /// that it holds exactly the entries its header names, and the anchors that fall in its range.
    public static func verify(_ path: String, anchors: [AuditVerifier.Head] = []) throws -> Verification {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw WeicheError(.invalidInput, "cannot read \(path)")
        }
        defer { try? handle.close() }
        var lines = LineReader(handle: handle)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let first = try lines.next(), let header = try? decoder.decode(Header.self, from: Data(first)), header.format == formatName,
            header.previousHash.hexBytes?.count == 32
        else {
            throw WeicheError(.invalidInput, "\(path) is not an audit export (\(formatName)): its first line is not the header")
        }
        let start = AuditVerifier.Head(seq: max(header.firstSeq - 1, 0), hash: header.previousHash)
        let inRange = anchors.filter { $0.seq >= header.firstSeq && $0.seq <= header.lastSeq }
        var verifier = AuditVerifier(start: start, anchors: inRange)
        var lineNumber = 1
        while let line = try lines.next() {
            lineNumber += 1
            if line.isEmpty { continue }
            guard let entry = try? decoder.decode(AuditEntry.self, from: Data(line)) else {
                throw WeicheError(.invalidInput, "\(path), line \(lineNumber): not an audit entry")
            }
            if let failure = verifier.feed(entry) {
                return Verification(header: header, checked: verifier.checked, failure: failure)
            }
        }
        let end = header.lastSeq == 0 ? nil : AuditVerifier.Head(seq: header.lastSeq, hash: verifier.lastVerified.hash)
        if let failure = verifier.finish(head: end) {
            return Verification(header: header, checked: verifier.checked, failure: failure)
        }
        if header.lastSeq != 0 && verifier.lastVerified.seq != header.lastSeq {
            return Verification(header: header, checked: verifier.checked, failure: AuditVerifier.Break(
                seq: verifier.lastVerified.seq + 1, kind: .missing,
                explanation: "the export ends at entry \(verifier.lastVerified.seq), but its header names \(header.lastSeq)"))
        }
        if header.lastSeq == header.headSeq && header.lastSeq != 0 && verifier.lastVerified.hash != header.headHash.lowercased() {
            return Verification(header: header, checked: verifier.checked, failure: AuditVerifier.Break(
                seq: header.lastSeq, kind: .changed, explanation: "the header's head hash does not match the last entry"))
        }
        return Verification(header: header, checked: verifier.checked, failure: nil)
    }
}

/// Reads a file line by line in bounded memory (lines up to 1 MiB).
struct LineReader {
    let handle: FileHandle
    var buffer: [UInt8] = []
    /// Where the unread part of `buffer` starts.
    var start = 0
    var finished = false

    init(handle: FileHandle) {
        self.handle = handle
    }

    mutating func next() throws -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return line
            }
            if finished {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return Array(buffer[start...])
            }
            guard buffer.count - start <= 1 << 20 else { throw WeicheError(.invalidInput, "a line is longer than 1 MiB") }
            buffer.removeSubrange(..<start)
            start = 0
            let chunk = try handle.read(upToCount: 1 << 16) ?? Data()
            if chunk.isEmpty { finished = true } else { buffer += chunk }
        }
    }
}
