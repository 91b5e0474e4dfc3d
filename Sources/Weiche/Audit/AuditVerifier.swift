import Foundation

/// Re-computes the audit log's hash chain entry by entry and finds the first break.
///
/// It holds only the last two hashes and one entry of lookahead, so it verifies any number of
/// entries in constant memory. Feed entries in sequence order, then call ``finish(head:)``.
public struct AuditVerifier: Sendable {
    /// Where the chain breaks, and what the entries there suggest happened.
    public struct Break: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable, Codable {
            /// An entry's content no longer matches its hash.
            case changed
            /// An entry is gone.
            case missing
            /// An entry that was never appended is in the log.
            case inserted
            /// Entries are in the wrong order.
            case reordered
            /// The chain is consistent but no longer contains an anchored head: it was rewritten.
            case rewritten
        }

        /// The first entry that cannot be trusted.
        public var seq: Int64
        public var kind: Kind
        public var explanation: String

        public var description: String { "entry \(seq): \(kind.rawValue): \(explanation)" }
    }

    /// The head recorded beside the log (`audit_head`), or in an anchor.
    public struct Head: Sendable, Equatable, Codable {
        public var seq: Int64
        public var hash: String

        public init(seq: Int64, hash: String) {
            self.seq = seq
            self.hash = hash
        }
    }

    private var expectedSeq: Int64
    private var tip: [UInt8]
    private var beforeTip: [UInt8]?
    private var suspect: (entry: AuditEntry, tip: [UInt8])?
    private let anchors: [Int64: String]
    private var lastMatchingAnchor: Int64 = 0
    /// How many entries verified so far.
    public private(set) var checked = 0
    /// The sequence number and hash of the last verified entry.
    public var lastVerified: Head { Head(seq: expectedSeq - 1, hash: tip.hexString) }

    /// - Parameters:
    ///   - start: the entry before the first one fed (an export's start), or nil for the log's beginning.
    ///   - anchors: heads written down earlier; each must still be in the log unchanged.
    public init(start: Head? = nil, anchors: [Head] = []) {
        expectedSeq = (start?.seq ?? 0) + 1
        tip = start?.hash.hexBytes ?? [UInt8](repeating: 0, count: 32)
        self.anchors = Dictionary(anchors.map { ($0.seq, $0.hash.lowercased()) }) { first, _ in first }
    }

    /// Checks the next entry. Returns the first break once it is known (possibly one entry
    /// later, when the next entry tells what happened); after a break, stop feeding.
    public mutating func feed(_ entry: AuditEntry) -> Break? {
        if let suspect { return Self.classify(suspect.entry, tip: suspect.tip, next: entry) }
        guard entry.seq == expectedSeq else {
            if entry.seq > expectedSeq {
                let range = entry.seq - 1 == expectedSeq ? "entry \(expectedSeq) is" : "entries \(expectedSeq)…\(entry.seq - 1) are"
                return Break(seq: expectedSeq, kind: .missing, explanation: "\(range) missing: the log jumps from \(expectedSeq - 1) to \(entry.seq)")
            }
            return Break(seq: entry.seq, kind: .reordered, explanation: "entry \(entry.seq) appears again after entry \(expectedSeq - 1)")
        }
        let computed = entry.expectedHash(after: tip)
        guard entry.hasHash(computed) else {
            // Is this the entry that belonged one place earlier? Then the previous one was inserted.
            if let beforeTip {
                var shifted = entry
                shifted.seq -= 1
                if entry.hasHash(shifted.expectedHash(after: beforeTip)) {
                    return Break(seq: entry.seq - 1, kind: .inserted, explanation: "entry \(entry.seq - 1) was inserted: the entry after it is the one that was appended as \(entry.seq - 1)")
                }
            }
            suspect = (entry, tip)
            return nil
        }
        if let anchored = anchors[entry.seq] {
            guard anchored == entry.hash.lowercased() else {
                return Break(seq: lastMatchingAnchor + 1, kind: .rewritten, explanation: Self.rewritten(anchor: entry.seq, lastMatching: lastMatchingAnchor))
            }
            lastMatchingAnchor = entry.seq
        }
        beforeTip = tip
        tip = computed
        expectedSeq += 1
        checked += 1
        return nil
    }

    /// Ends the check: the last entry, the recorded head, and anchors past the end.
    public mutating func finish(head: Head?) -> Break? {
        if let suspect { return Self.classify(suspect.entry, tip: suspect.tip, next: nil) }
        let last = expectedSeq - 1
        if let head {
            if head.seq > last {
                return Break(seq: last + 1, kind: .missing, explanation: "the log ends at entry \(last), but its head records entry \(head.seq): the entries after \(last) were removed")
            }
            if head.seq == last && head.hash.lowercased() != tip.hexString {
                return Break(seq: last, kind: .changed, explanation: "the head records another hash for entry \(last)")
            }
        }
        if let beyond = anchors.keys.filter({ $0 > last }).min() {
            return Break(seq: lastMatchingAnchor + 1, kind: .rewritten, explanation: "an anchor records entry \(beyond), but the log ends at entry \(last): " + Self.rewritten(anchor: beyond, lastMatching: lastMatchingAnchor))
        }
        return nil
    }

    private static func rewritten(anchor: Int64, lastMatching: Int64) -> String {
        let from = lastMatching == 0 ? "from the first entry" : "after entry \(lastMatching) (the last anchor that still matches)"
        return "the chain no longer contains the anchored entry \(anchor): the log was rewritten \(from), up to entry \(anchor) at the latest"
    }

    /// Explains a mismatching entry using the one after it.
    private static func classify(_ entry: AuditEntry, tip: [UInt8], next: AuditEntry?) -> Break {
        let seq = entry.seq
        guard let next, let entryHash = entry.hash.hexBytes else {
            return Break(seq: seq, kind: .changed, explanation: "entry \(seq) does not match its hash (changed or forged)")
        }
        var nextHere = next
        nextHere.seq = entry.seq
        var entryThere = entry
        entryThere.seq = next.seq
        let nextBelongsHere = nextHere.expectedHash(after: tip).hexString == next.hash.lowercased()
        if nextBelongsHere, let nextHash = next.hash.hexBytes, entryThere.expectedHash(after: nextHash).hexString == entry.hash.lowercased() {
            return Break(seq: seq, kind: .reordered, explanation: "entries \(seq) and \(next.seq) were swapped")
        }
        if nextBelongsHere {
            return Break(seq: seq, kind: .inserted, explanation: "entry \(seq) was inserted: the entry after it is the one that was appended as \(seq)")
        }
        if next.expectedHash(after: entryHash).hexString == next.hash.lowercased() {
            return Break(seq: seq, kind: .changed, explanation: "entry \(seq) was changed: its content no longer matches its hash, which the next entry still confirms")
        }
        var nextShifted = next
        nextShifted.seq += 1
        if nextShifted.expectedHash(after: entryHash).hexString == next.hash.lowercased() {
            return Break(seq: seq, kind: .missing, explanation: "an entry was deleted before entry \(seq) and the later entries renumbered")
        }
        return Break(seq: seq, kind: .changed, explanation: "entry \(seq) does not match the chain (changed, replaced or moved)")
    }

    /// Checks entries already in memory, in sequence order, as ``AuditLog/verify(anchors:pageSize:progress:)``
    /// checks the database: entries up to the head in order, the head, then anything beyond it.
    /// With `start`, checking begins after that entry (whose hash must be right).
    public static func check(_ entries: [AuditEntry], head: Head, anchors: [Head] = [], start: Head? = nil) -> (checked: Int, failure: Break?) {
        var verifier = AuditVerifier(start: start, anchors: anchors)
        // Entries are in sequence order: skip to the first after `start`.
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].seq <= (start?.seq ?? 0) { low = middle + 1 } else { high = middle }
        }
        for entry in entries[low...] {
            guard entry.seq <= head.seq else { break }
            if let failure = verifier.feed(entry) { return (verifier.checked, failure) }
        }
        if let failure = verifier.finish(head: head) { return (verifier.checked, failure) }
        if let beyond = entries.last(where: { $0.seq > head.seq }) {
            return (verifier.checked, Break(seq: beyond.seq, kind: .inserted, explanation: "entry \(beyond.seq) lies beyond the recorded head \(head.seq)"))
        }
        return (verifier.checked, nil)
    }
}
