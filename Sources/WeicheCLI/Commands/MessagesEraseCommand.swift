import Foundation
import Weiche
import WeicheCore

/// `weiche messages erase`: erases payloads whose retention has ended; the audit skeleton stays.
struct MessagesEraseCommand: Command {
    static let path = ["messages", "erase"]
    static let abstract = "Erase the payloads of messages received before a time (retention ended)."
    static let help = """
        USAGE: weiche messages erase --before TIME --reason TEXT [--as NAME] [--dry-run]

        Erases the content of every message received before TIME whose deliveries have all
        ended (delivered or failed): the referral as received and each recipient's copy. The
        envelope (type, agencies, legal basis, times) and the audit log stay, and the log stays
        verifiable; each erased message gets a 'payload-erased' entry with who and why. An
        erased message can no longer be replayed. Messages still waiting for delivery are left.

        OPTIONS:
          --before TIME   ISO 8601 (2026-01-01) or an age (e.g. 365d: older than a year).
          --reason TEXT   Why (e.g. the retention rule), for the audit log. Required.
          --as NAME       Who erases, for the audit log (default: the operating-system user).
          --dry-run       Only count what would be erased.

        EXAMPLES:
          weiche messages erase --before 365d --reason "Aufbewahrungsfrist abgelaufen (§ 84 SGB X)" --dry-run
          weiche messages erase --before 2026-01-01 --reason "Aufbewahrungsfrist abgelaufen" --as "M. Weber"
        """

    var before: Date
    var reason: String
    var actor: String?
    var dryRun: Bool

    init(arguments: inout Arguments) throws(UsageError) {
        guard let text = try arguments.option("--before") else { throw UsageError("--before is required: which messages' retention has ended?") }
        before = try TimeArgument.parse(text, option: "--before")
        guard let reason = try arguments.option("--reason")?.trimmingCharacters(in: .whitespaces), !reason.isEmpty, reason.count <= 500 else {
            throw UsageError("--reason is required (at most 500 characters): it goes into the audit log")
        }
        self.reason = reason
        actor = try arguments.option("--as")
        dryRun = arguments.flag("--dry-run")
        try arguments.finish()
    }

    func run(_ context: CommandContext) async throws {
        let person = try context.person(actor)
        let stamp = before.formatted(.iso8601)
        try await context.withDatabase { pool in
            let store = PipelineStore(pool: pool)
            if dryRun {
                let count = try await store.erasablePayloads(receivedBefore: before)
                context.print("Would erase the payloads of \(count) message\(count == 1 ? "" : "s") received before \(stamp). Nothing was changed.")
                return
            }
            var total = 0
            while true {
                let erased = try await store.erasePayloads(receivedBefore: before, actor: person, reason: reason)
                if erased == 0 { break }
                total += erased
                context.progress("erased \(total)…")
            }
            if total > 0 { context.endProgress() }
            context.print("Erased the payloads of \(total) message\(total == 1 ? "" : "s") received before \(stamp); the audit log records it.")
        }
    }
}
