import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// What `weiche replay` and `weiche dead-letter redrive` share: choosing, confirming, and
/// running a replay with progress, Ctrl-C, and a summary.
struct ReplayRun {
    var selection: PipelineStore.ReplaySelection
    var reason: String
    var actor: String?
    var dryRun: Bool
    var yes: Bool
    var force: Bool
    var json: Bool
    var configPath: String?

    /// Reads the options both commands share; `state` is decided by the command.
    static func options(_ arguments: inout Arguments) throws(UsageError) -> ReplayRun {
        guard let reason = try arguments.option("--reason")?.trimmingCharacters(in: .whitespaces), !reason.isEmpty, reason.count <= 500 else {
            throw UsageError("--reason is required (at most 500 characters): say why, for the audit log")
        }
        var selection = PipelineStore.ReplaySelection(createdBefore: Date())
        if let to = try arguments.option("--to") {
            guard AgencyID(to) != nil else { throw UsageError("--to: not an agency id (lowercase letters, digits, '-')") }
            selection.recipient = to
        }
        if let type = try arguments.option("--type") {
            guard ReferralType(type) != nil else { throw UsageError("--type: not a referral type (e.g. kinderbetreuung.anfrage)") }
            selection.type = type
        }
        if let since = try arguments.option("--since") { selection.since = try TimeArgument.parse(since, option: "--since") }
        if let until = try arguments.option("--until") { selection.until = try TimeArgument.parse(until, option: "--until") }
        return ReplayRun(
            selection: selection, reason: reason, actor: try arguments.option("--as"), dryRun: arguments.flag("--dry-run"),
            yes: arguments.flag("--yes"), force: arguments.flag("--force"), json: arguments.flag("--json"),
            configPath: try arguments.option("--config"))
    }

    func run(_ context: CommandContext, worker: String) async throws {
        let person = try context.person(actor)
        let configuration = try context.configuration(path: configPath)
        let (gateway, pool) = try await context.gateway(configuration: configuration, worker: worker)
        do {
            try await run(context, Replay(gateway: gateway, actor: person, reason: reason, force: force))
            await pool.close()
        } catch {
            await pool.close()
            throw error
        }
    }

    private func run(_ context: CommandContext, _ replay: Replay) async throws {
        let person = replay.actor
        let gateway = replay.gateway
        if dryRun {
            try await preview(context, replay)
            return
        }
        let (count, messages) = try await Self.count(selection, gateway.store)
        if count == 0 {
            context.print("Nothing to replay: no delivery matches.")
            return
        }
        if messages > 1 && !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                throw UsageError("this would replay \(count) deliveries of \(messages) messages: confirm with --yes (or look first with --dry-run)")
            }
            FileHandle.standardError.write(Data("Replay \(count) deliveries of \(messages) messages as \(person)? [y/N] ".utf8))
            guard let answer = readLine(), ["y", "yes", "j", "ja"].contains(answer.lowercased()) else {
                context.print("Nothing replayed.")
                return
            }
        }
        let stop = StopSignal()
        let started = ContinuousClock.now
        let (progress, interrupted) = try await replay.run(selection, shouldStop: { stop.requested }) { progress in
            let seconds = max((ContinuousClock.now - started).seconds, 0.001)
            context.progress("\(progress.considered)/\(count) considered · \(progress.replayed) replayed · \(progress.delivered) delivered · \(progress.failed + progress.retrying) failed · \(Int(Double(progress.considered) / seconds))/s")
        }
        context.endProgress()
        if json {
            try context.printJSON(Summary(interrupted: interrupted, progress: progress))
        } else {
            context.print(Self.summary(progress, interrupted: interrupted))
        }
        if interrupted { throw StatusReported(code: .interrupted) }
        if progress.refused + progress.erased + progress.failed + progress.retrying > 0 { throw StatusReported(code: .failure) }
    }

    struct Summary: Encodable {
        var interrupted: Bool
        var progress: Replay.Progress
    }

    static func summary(_ progress: Replay.Progress, interrupted: Bool) -> String {
        var parts = ["\(progress.replayed) replayed", "\(progress.delivered) delivered"]
        if progress.retrying > 0 { parts.append("\(progress.retrying) failed again and wait for a retry ('weiche serve' continues)") }
        if progress.failed > 0 { parts.append("\(progress.failed) failed again (dead letters)") }
        if progress.refused > 0 { parts.append("\(progress.refused) refused by today's policy, not sent") }
        if progress.erased > 0 { parts.append("\(progress.erased) not sent: payload erased") }
        if progress.alreadyDelivered > 0 { parts.append("\(progress.alreadyDelivered) already delivered (--force sends them again)") }
        if progress.queued > 0 { parts.append("\(progress.queued) already waiting for delivery") }
        let head = interrupted ? "Interrupted after \(progress.considered) deliveries; run the same command again to finish: " : "Replay done: "
        return head + parts.joined(separator: ", ") + "."
    }

    /// Lists what the replay would do, and changes nothing.
    func preview(_ context: CommandContext, _ replay: Replay) async throws {
        struct Line: Encodable {
            var message: String
            var delivery: String
            var recipient: String
            var type: String
            var state: String
            var verdict: String
            var detail: String
        }
        var lines: [Line] = []
        var cursor: (Date, UUID)?
        while true {
            let candidates = try await replay.gateway.store.replayCandidates(selection, after: cursor, limit: 500)
            guard let last = candidates.last else { break }
            cursor = (last.createdAt, last.deliveryID)
            for candidate in candidates {
                let (verdict, detail): (String, String) = switch replay.verdict(for: candidate) {
                case .send(let order): ("replay", order.note)
                case .deliverPending: ("deliver", "a replay an earlier run left pending")
                case .refused(let refusal): ("refused", refusal.reason)
                case .skip(let skip): ("skip", skip.rawValue)
                }
                lines.append(Line(
                    message: candidate.messageID.uuidString.lowercased(), delivery: candidate.deliveryID.uuidString.lowercased(),
                    recipient: candidate.recipient.rawValue, type: candidate.type, state: candidate.state, verdict: verdict, detail: detail))
            }
        }
        if json {
            try context.printJSON(lines)
            return
        }
        guard !lines.isEmpty else {
            context.print("Nothing to replay: no delivery matches. (dry run: nothing was changed)")
            return
        }
        context.print("MESSAGE".padded(to: 38) + "TO".padded(to: 24) + "STATE".padded(to: 11) + "WOULD".padded(to: 9) + "BECAUSE / TODAY'S POLICY")
        for line in lines {
            context.print(line.message.padded(to: 38) + line.recipient.padded(to: 24) + line.state.padded(to: 11) + line.verdict.padded(to: 9) + line.detail)
        }
        let counts = Dictionary(grouping: lines, by: \.verdict).mapValues(\.count)
        context.print("\n\(lines.count) deliveries: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            + ". (dry run: nothing was changed)")
    }

    /// How many deliveries, of how many messages, the selection holds.
    static func count(_ selection: PipelineStore.ReplaySelection, _ store: PipelineStore) async throws -> (deliveries: Int, messages: Int) {
        var deliveries = 0
        var messages: Set<UUID> = []
        var cursor: (Date, UUID)?
        while true {
            let page = try await store.replayCandidates(selection, after: cursor, limit: 1000)
            guard let last = page.last else { return (deliveries, messages.count) }
            deliveries += page.count
            messages.formUnion(page.map(\.messageID))
            cursor = (last.createdAt, last.deliveryID)
        }
    }
}

/// `weiche replay`: sends deliveries again, by message id or by filter.
struct ReplayCommand: Command {
    static let path = ["replay"]
    static let abstract = "Send deliveries again (by id or filter), with today's policy, never rewriting history."
    static let help = """
        USAGE: weiche replay [MESSAGE-ID…] [--state failed|delivered] [--to AGENCY] [--type TYPE]
                             [--since TIME] [--until TIME] --reason TEXT [--as NAME]
                             [--dry-run] [--yes] [--force] [--config PATH] [--json]

        Sends the chosen deliveries again. Each is re-checked against today's configuration
        (route, consent, categories): what is now refused is reported and recorded, not sent;
        fields a route no longer allows are removed. A replay is a new delivery linked to the
        one it replays; the original and its attempts are never changed. The recipient gets the
        same Weiche message id, so it can recognise a resend. Every replay is recorded in the
        audit log with who (--as, or the operating-system user) and why (--reason).

        Only the latest delivery of each lineage counts: running the same command again does
        not replay what the first run already replayed, and finishes what an interrupted run
        left. A delivery that already succeeded is sent again only with --force. The deliveries
        are claimed like 'weiche serve' claims them, so a running gateway never sends one at the
        same time. Progress goes to standard error; Ctrl-C stops after the batch in hand.

        OPTIONS:
          MESSAGE-ID…      Replay these messages' deliveries (Weiche message ids).
          --state STATE    Only deliveries in this state: failed (dead letters) or delivered.
          --to AGENCY      Only deliveries to this agency.
          --type TYPE      Only messages of this referral type.
          --since, --until When the message was received: ISO 8601 or an age (2h, 3d).
          --reason TEXT    Why, for the audit log. Required.
          --as NAME        Who, for the audit log (default: the operating-system user).
          --dry-run        List what would happen to each delivery under today's policy —
                           replay, refused, fields now removed — and change nothing.
          --yes            Do not ask before replaying more than one message (needed when
                           standard input is not a terminal).
          --force          Also send deliveries that already succeeded.
          --config PATH    The configuration whose policy applies (default: $WEICHE_CONFIG).
          --json           The summary (or the dry run's list) as JSON.

        EXIT CODES: 0 all replayed and delivered (or nothing to do), 1 some refused, erased or
        failed again, 2 usage error, 3 database unavailable, 130 interrupted (run it again).

        EXAMPLES:
          weiche replay --state failed --to jugendamt --since 1d --reason "Jugendamt-Server war ausgefallen" --dry-run
          weiche replay --state failed --to jugendamt --since 1d --reason "Jugendamt-Server war ausgefallen" --yes
          weiche replay 45cdea1f-2920-4bc3-b72c-61d15fad5836 --reason "Empfänger bittet um erneute Zustellung" --force
        """

    var run: ReplayRun
    var worker: String

    init(arguments: inout Arguments) throws(UsageError) {
        let state = try arguments.option("--state")
        if let state, !["failed", "delivered"].contains(state) {
            throw UsageError("--state must be failed or delivered (pending deliveries are still being sent)")
        }
        run = try ReplayRun.options(&arguments)
        run.selection.state = state
        worker = "replay/\(ProcessInfo.processInfo.hostName):\(getpid())"
        let ids = try arguments.positionals()
        for text in ids {
            guard let id = UUID(parsing: text) else { throw UsageError("'\(text.prefix(40))' is not a message id (a UUID)") }
            run.selection.messages.append(id)
        }
        let filtered = state != nil || run.selection.recipient != nil || run.selection.type != nil || run.selection.since != nil || run.selection.until != nil
        guard !run.selection.messages.isEmpty || filtered else {
            throw UsageError("say what to replay: message ids, or filters such as --state failed --to AGENCY")
        }
    }

    func run(_ context: CommandContext) async throws {
        try await run.run(context, worker: worker)
    }
}
