import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// `weiche audit anchor`: writes the log's current head down, for keeping outside the database.
struct AuditAnchorCommand: Command {
    static let path = ["audit", "anchor"]
    static let abstract = "Write the audit log's head (sequence number, hash, time) for safekeeping."
    static let help = """
        USAGE: weiche audit anchor [--output FILE]

        Prints the audit log's current head — the last entry's sequence number and hash, and
        the time — as one line of JSON. Keep it outside the database (mail it to the data
        protection officer, put it in a WORM store): 'weiche audit verify --anchor FILE' later
        proves that the log still contains this head unchanged, which catches even a database
        superuser who rewrote the log and re-computed every hash after it.

        OPTIONS:
          --output FILE   Append the line to FILE (created if missing) instead of printing
                          it. A file kept this way by a daily routine holds every head.

        EXAMPLES:
          weiche audit anchor
          weiche audit anchor --output /var/lib/weiche/anchors.jsonl
        """

    var output: String?

    init(arguments: inout Arguments) throws(UsageError) {
        output = try arguments.option("--output")
        try arguments.finish()
    }

    func run(_ context: CommandContext) async throws {
        let head = try await context.withDatabase { pool in try await AuditLog(pool: pool).head() }
        let line = AuditAnchor(head: head, anchoredAt: Date()).line
        guard let output else {
            context.print(line)
            return
        }
        let descriptor = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw WeicheError(.invalidInput, "cannot open \(output) for appending: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw WeicheError(.system, "cannot write the anchor to \(output): \(String(cString: strerror(errno)))")
        }
        context.note("Anchored entry \(head.seq) (\(head.hash.prefix(16))…) in \(output).")
    }
}

/// `weiche audit verify`: re-computes the hash chain and reports the first break.
struct AuditVerifyCommand: Command {
    static let path = ["audit", "verify"]
    static let abstract = "Re-compute the audit log's hash chain; report the first break or OK."
    static let help = """
        USAGE: weiche audit verify [--anchor FILE] [--export FILE] [--json]

        Re-computes every entry's hash from the one before it, in one consistent snapshot and
        in constant memory, and checks the head recorded beside the log. Reports OK with the
        number of entries checked, or the first break: its sequence number and what the
        entries there show — changed, missing, inserted, reordered, or (with anchors)
        rewritten. Progress goes to standard error.

        OPTIONS:
          --anchor FILE   Also prove that the log still contains every head in FILE (written
                          by 'weiche audit anchor') unchanged.
          --export FILE   Check an export written by 'weiche audit export' instead of the
                          database. Needs no database.
          --json          One JSON object instead of text.

        EXIT CODES: 0 intact, 1 broken (or the check could not run), 2 usage error.

        EXAMPLES:
          weiche audit verify
          weiche audit verify --anchor /var/lib/weiche/anchors.jsonl
          weiche audit verify --export audit-2026-q3.jsonl --anchor anchors.jsonl
        """

    var anchorFile: String?
    var exportFile: String?
    var json: Bool

    init(arguments: inout Arguments) throws(UsageError) {
        anchorFile = try arguments.option("--anchor")
        exportFile = try arguments.option("--export")
        json = arguments.flag("--json")
        try arguments.finish()
    }

    struct Report: Encodable {
        var intact: Bool
        var checked: Int
        var headSeq: Int64
        var headHash: String
        var anchors: Int
        var failure: Failure?

        struct Failure: Encodable {
            var seq: Int64
            var kind: String
            var explanation: String
        }
    }

    func run(_ context: CommandContext) async throws {
        let anchors = try anchorFile.map { try AuditAnchor.read(context.readBounded($0, limit: 10 << 20)).map(\.head) } ?? []
        let report: Report
        if let exportFile {
            let result = try AuditExport.verify(exportFile, anchors: anchors)
            report = Report(
                intact: result.failure == nil, checked: result.checked, headSeq: result.header.lastSeq, headHash: result.header.headHash,
                anchors: anchors.filter { $0.seq >= result.header.firstSeq && $0.seq <= result.header.lastSeq }.count,
                failure: result.failure.map { Report.Failure(seq: $0.seq, kind: $0.kind.rawValue, explanation: $0.explanation) })
        } else {
            let started = ContinuousClock.now
            let showProgress = !json
            let result = try await context.withDatabase { pool in
                try await AuditLog(pool: pool).verify(anchors: anchors) { checked, total in
                    guard showProgress else { return }
                    let seconds = max((ContinuousClock.now - started).seconds, 0.001)
                    context.progress("checked \(checked) of \(total) entries (\(Int(Double(checked) / seconds))/s)")
                }
            }
            if showProgress { context.endProgress() }
            report = Report(
                intact: result.failure == nil, checked: result.checked, headSeq: result.head.seq, headHash: result.head.hash,
                anchors: anchors.count, failure: result.failure.map { Report.Failure(seq: $0.seq, kind: $0.kind.rawValue, explanation: $0.explanation) })
        }
        if json {
            try context.printJSON(report)
        } else if let failure = report.failure {
            context.print("BROKEN at entry \(failure.seq): \(failure.kind) — \(failure.explanation)")
            context.print("(\(report.checked) entries before it verified)")
        } else {
            let source = exportFile.map { "export \($0)" } ?? "audit log"
            context.print("OK: \(source) intact, \(report.checked) entries checked, head \(report.headSeq) \(report.headHash)"
                + (anchors.isEmpty ? "" : "; \(report.anchors) anchor\(report.anchors == 1 ? "" : "s") present and unchanged"))
        }
        if report.failure != nil { throw StatusReported(code: .failure) }
    }
}

/// `weiche audit query`: the auditor's questions, answered from the log (and logged).
struct AuditQueryCommand: Command {
    static let path = ["audit", "query"]
    static let abstract = "Find audit entries by message, person, agency, type, event or time."
    static let help = """
        USAGE: weiche audit query [--message ID] [--subject "Family, Given, yyyy-MM-dd"]
                                  [--agency ID] [--type TYPE] [--event KIND] [--since TIME]
                                  [--until TIME] [--limit N] [--as NAME] [--json | --csv]

        Lists the audit entries matching every filter given, oldest first: what went where,
        when, on which legal basis, what was removed, who did what. Metadata only; people
        appear as keyed hashes. The query itself is recorded in the log: who (--as, or the
        operating-system user, and the database user) and which filter.

        OPTIONS:
          --message ID      Entries about one message (its Weiche id).
          --subject TEXT    Every transfer about one person (GDPR Art. 15): family name,
                            given name and birth date, separated by commas. Needs the key in
                            WEICHE_SUBJECT_KEY (or WEICHE_SUBJECT_KEY_FILE); only its keyed
                            hash is sent to the database or logged.
          --agency ID       Entries involving an agency (as sender or recipient).
          --type TYPE       Entries about messages of a referral type.
          --event KIND      One kind of event: received, refused, routed, minimised,
                            attempted, delivered, failed, receipt, replayed, payload-erased,
                            payload-read, audit-query, configuration-applied, …
          --since, --until  ISO 8601 (2026-11-25T08:00:00+01:00, 2026-11-25) or an age (2h, 3d).
          --limit N         At most N entries (default 1000, at most 1000000).
          --as NAME         Who asks, for the log (default: the operating-system user).
          --json, --csv     Machine-readable output (see Docs/Audit.md).

        EXAMPLES:
          weiche audit query --subject "Größer, Jürgen, 1979-11-03"
          weiche audit query --message 45cdea1f-2920-4bc3-b72c-61d15fad5836
          weiche audit query --agency gesundheitsamt --event minimised --since 30d --csv > removed.csv
        """

    var filter = AuditLog.Filter()
    var subjectText: String?
    var limit = 1000
    var actor: String?
    var format = "table"

    init(arguments: inout Arguments) throws(UsageError) {
        if let text = try arguments.option("--message") {
            guard let id = UUID(parsing: text) else { throw UsageError("--message: '\(text.prefix(40))' is not a message id (a UUID)") }
            filter.message = id
        }
        subjectText = try arguments.option("--subject")
        if let agency = try arguments.option("--agency") {
            guard AgencyID(agency) != nil else { throw UsageError("--agency: not an agency id (lowercase letters, digits, '-')") }
            filter.agency = agency
        }
        if let type = try arguments.option("--type") {
            guard ReferralType(type) != nil else { throw UsageError("--type: not a referral type (e.g. kinderbetreuung.anfrage)") }
            filter.type = type
        }
        if let event = try arguments.option("--event") {
            guard AuditEventKind(rawValue: event) != nil else {
                throw UsageError("--event: unknown kind; one of \(AuditEventKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.event = event
        }
        if let since = try arguments.option("--since") { filter.since = try TimeArgument.parse(since, option: "--since") }
        if let until = try arguments.option("--until") { filter.until = try TimeArgument.parse(until, option: "--until") }
        if let text = try arguments.option("--limit") {
            guard let number = Int(text), (1...1_000_000).contains(number) else { throw UsageError("--limit must be a whole number from 1 to 1000000") }
            limit = number
        }
        actor = try arguments.option("--as")
        let json = arguments.flag("--json"), csv = arguments.flag("--csv")
        if json && csv { throw UsageError("choose one of --json and --csv") }
        format = json ? "json" : csv ? "csv" : "table"
        try arguments.finish()
    }

    func run(_ context: CommandContext) async throws {
        let person = try context.person(actor)
        var filter = filter
        if let subjectText {
            let identifier = try SubjectIdentifier(parsing: subjectText)
            guard let key = try SubjectKey.fromEnvironment(context.environment) else {
                throw WeicheError(.invalidConfiguration, "--subject needs the subject key: set WEICHE_SUBJECT_KEY or WEICHE_SUBJECT_KEY_FILE as the gateway has it")
            }
            filter.subject = key.subject(identifier)
        }
        let entries = try await context.withDatabase { pool in
            let log = AuditLog(pool: pool)
            // The question is on record before the answer is shown.
            try await log.recordQuery(actor: person, details: filter.summary.merging(["limit": String(limit)]) { first, _ in first })
            return try await log.query(filter, limit: limit)
        }
        switch format {
        case "json": try context.printJSON(entries.map(AuditEntryOutput.init))
        case "csv":
            context.print(CSVLine.make(["seq", "at", "event", "actor", "message", "agencies", "subject", "details", "hash"]))
            for entry in entries {
                context.print(CSVLine.make([
                    String(entry.seq), Self.time(entry.at), entry.kind, entry.actor, entry.messageID ?? "",
                    entry.agencies.joined(separator: " "), entry.subject ?? "", entry.details, entry.hash,
                ]))
            }
        default:
            guard !entries.isEmpty else {
                context.print("No entries match.")
                return
            }
            context.print("SEQ".padded(to: 8) + "TIME (UTC)".padded(to: 21) + "EVENT".padded(to: 22) + "MESSAGE".padded(to: 10)
                + "AGENCIES".padded(to: 38) + "ACTOR / DETAILS")
            for entry in entries {
                context.print(String(entry.seq).padded(to: 8) + Self.time(entry.at).padded(to: 21) + entry.kind.padded(to: 22)
                    + String((entry.messageID ?? "-").prefix(8)).padded(to: 10) + entry.agencies.joined(separator: " → ").padded(to: 38)
                    + entry.actor + " " + AuditEntryOutput.words(entry.details))
            }
            if entries.count == limit { context.note("(the first \(limit) entries; raise --limit for more)") }
        }
    }

    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeSeparator: .colon, includingFractionalSeconds: false)).replacingOccurrences(of: "T", with: " ")
    }
}

/// An audit entry as `weiche audit query --json` prints it (see Docs/Audit.md).
struct AuditEntryOutput: Encodable {
    var seq: Int64
    var at: Date
    var event: String
    var actor: String
    var messageId: String?
    var agencies: [String]
    var subject: String?
    var details: [String: String]
    var hash: String

    init(_ entry: AuditEntry) {
        seq = entry.seq
        at = entry.at
        event = entry.kind
        actor = entry.actor
        messageId = entry.messageID
        agencies = entry.agencies
        subject = entry.subject
        details = (try? JSONDecoder().decode([String: String].self, from: Data(entry.details.utf8))) ?? [:]
        hash = entry.hash
    }

    /// `key=value` pairs in name order.
    static func words(_ details: String) -> String {
        let pairs = (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:]
        return pairs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}

/// One RFC 4180 line: fields with a comma, quote or line break are quoted.
enum CSVLine {
    static func make(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}

/// `weiche audit export`: a self-verifying extract of the log.
struct AuditExportCommand: Command {
    static let path = ["audit", "export"]
    static let abstract = "Write a self-verifying extract of the audit log to a file."
    static let help = """
        USAGE: weiche audit export [--since TIME] [--until TIME] FILE

        Writes the entries appended from --since to --until (a contiguous run of sequence
        numbers; default: the whole log) to FILE: a header line with the hash before the first
        entry, then one JSON entry per line with its hash. 'weiche audit verify --export FILE'
        checks it without any database, for a court or an external auditor. The file is
        written under a temporary name and renamed when complete.

        OPTIONS:
          --since, --until  ISO 8601 (2026-07-01, 2026-07-01T00:00:00+02:00) or an age (30d).

        EXAMPLES:
          weiche audit export --since 2026-07-01 --until 2026-09-30T23:59:59+02:00 audit-2026-q3.jsonl
          weiche audit verify --export audit-2026-q3.jsonl
        """

    var since: Date?
    var until: Date?
    var file: String

    init(arguments: inout Arguments) throws(UsageError) {
        if let text = try arguments.option("--since") { since = try TimeArgument.parse(text, option: "--since") }
        if let text = try arguments.option("--until") { until = try TimeArgument.parse(text, option: "--until") }
        let rest = try arguments.positionals()
        guard rest.count == 1 else { throw UsageError("give the file to write, e.g. audit-2026-q3.jsonl") }
        file = rest[0]
    }

    func run(_ context: CommandContext) async throws {
        let header = try await context.withDatabase { pool in
            try await AuditExport.write(from: AuditLog(pool: pool), since: since, until: until, to: file)
        }
        if header.firstSeq == 0 {
            context.print("Wrote \(file): no entries in that time.")
        } else {
            context.print("Wrote \(file): entries \(header.firstSeq)…\(header.lastSeq) (\(header.lastSeq - header.firstSeq + 1)); check it with 'weiche audit verify --export \(file)'.")
        }
    }
}
