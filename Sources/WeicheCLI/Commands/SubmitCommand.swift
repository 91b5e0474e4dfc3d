import Foundation
import Weiche
import WeicheCore

/// `weiche submit`: ingests files as if they had arrived on an agency's channel.
struct SubmitCommand: Command {
    static let path = ["submit"]
    static let abstract = "Ingest files as if an agency had handed them over."
    static let help = """
        USAGE: weiche submit --from AGENCY [--config PATH] [--json] FILE...

        Decodes each file with the agency's adapter, checks every referral against the routes,
        and stores what is allowed for delivery (by 'weiche serve'). Prints the Weiche message
        id of each stored referral, and each rejection or refusal with its reason. A file may
        hold several referrals; a bad one is rejected alone. Submitting the same referral again
        stores nothing new (it is reported as a repeat).

        OPTIONS:
          --from AGENCY    The agency whose channel the files stand for (required).
          --config PATH    The configuration (default: $WEICHE_CONFIG).
          --json           One JSON array, an object per file, for scripts.

        EXIT CODES: 0 every file had something stored, 1 some file had nothing stored.

        EXAMPLES:
          weiche submit --from massarbeit --config weiche.json referral.json
          weiche submit --from massarbeit --json *.json | jq '.[].messages[].messageId'
        """

    var agency: AgencyID
    var configPath: String?
    var json: Bool
    var files: [String]

    init(arguments: inout Arguments) throws(UsageError) {
        guard let from = try arguments.option("--from") else { throw UsageError("--from AGENCY is required") }
        guard let agency = AgencyID(from) else { throw UsageError("--from: '\(from)' is not \(AgencyID.requiredForm)") }
        self.agency = agency
        configPath = try arguments.option("--config")
        json = arguments.flag("--json")
        files = try arguments.positionals()
        if files.isEmpty { throw UsageError("which files? Give at least one") }
    }

    struct FileResult: Encodable {
        struct Message: Encodable {
            var senderMessageId: String
            var messageId: String
            var duplicate: Bool
        }
        var file: String
        var messages: [Message]
        /// Weiche message ids of the referrals receipted by receipts in the file.
        var receipts: [String] = []
        var rejections: [String]
    }

    func run(_ context: CommandContext) async throws {
        let configuration = try context.configuration(path: configPath)
        guard configuration.agency(agency) != nil else {
            throw WeicheError(.invalidInput, "no agency '\(agency)' is configured")
        }
        let (gateway, pool) = try await context.gateway(configuration: configuration, worker: "submit:\(getpid())")
        var results: [FileResult] = []
        do {
            for file in files {
                let bytes: [UInt8]
                do {
                    bytes = try context.readBounded(file, limit: 10 << 20)
                } catch {
                    results.append(FileResult(file: file, messages: [], rejections: ["\(error)"]))
                    continue
                }
                let name = URL(fileURLWithPath: file).lastPathComponent
                let ingested = try await gateway.submit(InboundItem(name: name, bytes: bytes), from: agency)
                results.append(FileResult(
                    file: file,
                    messages: ingested.messages.map {
                        .init(senderMessageId: $0.senderMessageID, messageId: $0.messageID.uuidString.lowercased(), duplicate: $0.duplicate)
                    },
                    receipts: ingested.receipts.map { $0.uuidString.lowercased() },
                    rejections: ingested.rejections.map(\.description)))
            }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        if json {
            try context.printJSON(results)
        } else {
            for result in results {
                for message in result.messages {
                    context.print("\(result.file): \(message.messageId)\(message.duplicate ? " (repeat, stored before)" : "") ← \(message.senderMessageId)")
                }
                for receipted in result.receipts {
                    context.print("\(result.file): receipt for \(receipted) recorded")
                }
                for rejection in result.rejections {
                    context.print("\(result.file): rejected: \(rejection)")
                }
            }
        }
        if results.contains(where: { $0.messages.isEmpty && $0.receipts.isEmpty }) { throw StatusReported(code: .failure) }
    }
}
