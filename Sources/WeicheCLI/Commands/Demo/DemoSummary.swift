import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// Prints what happened to each of the demo's referrals, read back from the pipeline's records.
struct DemoSummary {
    let context: CommandContext
    let store: PipelineStore
    let configuration: GatewayConfiguration
    /// Where the agencies' directories are.
    let root: URL

    typealias Detail = PipelineStore.MessageDetail

    func print(_ stories: [DemoStory]) async throws {
        context.print("What happened")
        context.print("=============")
        for (index, story) in stories.enumerated() {
            context.print("\n\(index + 1). \(story.title)")
            guard let id = try await store.messageID(sender: story.sender, senderMessageID: story.senderMessageID),
                let detail = try await store.messageDetail(id)
            else {
                context.print("   not stored: see the sender's .error.txt")
                continue
            }
            describe(detail, indent: "   ")
            for related in detail.conversation where related.relation == "answered by" {
                guard let answer = try await store.messageDetail(related.id) else { continue }
                context.print("   ↳ answered by \(answer.message.type) from \(answer.message.sender)")
                describe(answer, indent: "     ")
            }
        }
        try printRejectedOnArrival()
    }

    func describe(_ detail: Detail, indent: String) {
        let message = detail.message
        let recipients = Set(detail.events.filter { ["routed", "refused"].contains($0.kind) }.compactMap(\.agency))
        context.print("\(indent)\(message.type): \(message.sender) → \(recipients.sorted().joined(separator: ", "))"
            + "   [Weiche id \(message.id.uuidString.lowercased())" + (message.inReplyTo.map { ", in reply to \($0)" } ?? "") + "]")
        for event in detail.events {
            let agency = event.agency ?? "?"
            switch event.kind {
            case "routed":
                context.print("\(indent)  legal basis   \(event.details["legalBasis"] ?? "")")
                context.print("\(indent)  purpose       \(event.details["purpose"] ?? "")")
                if let notice = configuration.routes.first(where: { $0.type.rawValue == message.type && $0.from.rawValue == message.sender && $0.to.rawValue == agency })?.notice {
                    context.print("\(indent)  notice        \(notice.prefix(60))… (carried in the delivery)")
                }
                if !detail.events.contains(where: { $0.kind == "minimised" && $0.agency == agency }) {
                    context.print("\(indent)  removed       nothing (everything is within the route's categories)")
                }
            case "minimised":
                context.print("\(indent)  removed       \(event.details["removed"] ?? "") — not allowed for \(agency)")
            case "refused":
                context.print("\(indent)  REFUSED       \(event.details["reason"] ?? "")")
            case "receipt":
                let outcome = event.details["outcome"] == "accepted"
                    ? "accepted"
                    : "rejected (\(event.details["code"] ?? "")): \(event.details["reason"] ?? "")"
                context.print("\(indent)  receipt       \(agency) \(outcome)")
            default: continue
            }
        }
        for delivery in detail.deliveries {
            context.print("\(indent)  \(delivery.kind == "receipt" ? "receipt to" : "delivery to") \(delivery.recipient.padded(to: 23)) \(Self.describe(delivery))")
        }
    }

    static func describe(_ delivery: Detail.Delivery) -> String {
        let attempts = delivery.attempts
        switch delivery.state {
        case "delivered" where attempts.count > 1:
            let first = attempts.first?.error.map { ": \($0)" } ?? ""
            return "delivered on attempt \(attempts.count) (attempt 1 failed\(first))"
        case "delivered":
            return "delivered"
        case "failed":
            return "FAILED, dead letter after \(attempts.count) attempt\(attempts.count == 1 ? "" : "s"): \(delivery.lastError ?? "no error recorded")"
        default:
            return "\(delivery.state) after \(attempts.count) attempts"
        }
    }

    /// A data subject's request answered from the audit log, and the chain verified.
    static func printAudit(context: CommandContext, log: AuditLog, subjectKey: SubjectKey) async throws {
        let person = SubjectIdentifier(familyName: "Größer", givenName: "Jürgen", birthDate: "1979-11-03")
        let entries = try await log.query(AuditLog.Filter(subject: subjectKey.subject(person)), limit: 1000)
        let messages = Set(entries.compactMap(\.messageID)).count
        let flows = Set(entries.filter { $0.kind == "delivered" && $0.agencies.count == 2 }.map { $0.agencies.joined(separator: " → ") }).sorted()
        context.print("\nGDPR Art. 15: what went where about Jürgen Größer, born 1979-11-03")
        context.print("  \(entries.count) audit entries about \(messages) messages, found by the keyed hash of name and birth date;")
        context.print("  delivered: \(flows.joined(separator: "; ")). The log holds no name or birth date in clear.")
        let verification = try await log.verify()
        if let failure = verification.failure {
            context.print("\nAudit log: BROKEN at entry \(failure.seq): \(failure.explanation)")
        } else {
            context.print("\nAudit log: \(verification.checked) entries, hash chain intact (head \(verification.head.seq) \(verification.head.hash.prefix(16))…)")
        }
    }

    /// What the senders' channels were told about parts that were refused or unreadable.
    func printRejectedOnArrival() throws {
        guard let agencies = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return }
        var reports: [(String, String)] = []
        for agency in agencies.sorted() {
            let inbound = "\(root.path)/\(agency)/to-weiche"
            for folder in ["processed", "rejected"] {
                let directory = "\(inbound)/\(folder)"
                for file in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() where file.hasSuffix(".error.txt") {
                    let text = (try? String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)) ?? ""
                    reports.append(("\(agency)/to-weiche/\(folder)/\(file)", text))
                }
            }
        }
        guard !reports.isEmpty else { return }
        context.print("\nReported back to the senders (the .error.txt beside their file)")
        for (path, text) in reports {
            context.print("  \(path):")
            for line in text.split(separator: "\n") { context.print("    \(line)") }
        }
    }
}
