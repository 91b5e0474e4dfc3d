import Weiche
import WeicheCore
import WeichePostgres

/// Picks the command from the arguments, runs it, and turns its outcome into an exit code.
enum CommandLineTool {
    static let version = "0.1.0"

    static let commands: [any Command.Type] = [
        MigrateCommand.self,
        DatabaseStatusCommand.self,
        DatabaseStartCommand.self,
        DatabaseStopCommand.self,
        ConfigCheckCommand.self,
        ConfigExampleCommand.self,
        ServeCommand.self,
        SubmitCommand.self,
        StatusCommand.self,
        MessagesListCommand.self,
        MessagesShowCommand.self,
        MessagesEraseCommand.self,
        ReplayCommand.self,
        DeadLetterListCommand.self,
        DeadLetterRedriveCommand.self,
        AuditAnchorCommand.self,
        AuditVerifyCommand.self,
        AuditQueryCommand.self,
        AuditExportCommand.self,
        DemoCommand.self,
        BenchCommand.self,
    ]

    static func run(_ arguments: [String], context: CommandContext) async -> ExitCode {
        let words = Array(arguments.dropFirst())
        if words.isEmpty || words == ["help"] || words == ["--help"] || words == ["-h"] {
            context.print(overview)
            return .success
        }
        if words == ["--version"] {
            context.print("weiche \(version)")
            return .success
        }
        let asksForHelp = words.first == "help" || words.contains("--help") || words.contains("-h")
        let selectors = words.first == "help" ? Array(words.dropFirst()) : words
        guard let command = match(selectors) else {
            let group = groupHelp(selectors)
            if let group, asksForHelp || selectors.count == 1 {
                context.print(group)
                return asksForHelp ? .success : .usage
            }
            let shown = selectors.prefix(while: { !$0.hasPrefix("-") }).joined(separator: " ")
            context.note("weiche: unknown command '\(shown)'. Run 'weiche --help' for the list of commands.")
            return .usage
        }
        if asksForHelp {
            context.print(command.help)
            return .success
        }
        var rest = Arguments(Array(selectors.dropFirst(command.path.count)))
        let parsed: any Command
        do {
            parsed = try command.init(arguments: &rest)
        } catch {
            context.note("weiche \(command.path.joined(separator: " ")): \(error). See 'weiche \(command.path.joined(separator: " ")) --help'.")
            return .usage
        }
        do {
            try await parsed.run(context)
            return .success
        } catch let reported as StatusReported {
            return reported.code
        } catch {
            let (message, code) = describe(error)
            context.note("weiche: \(message)")
            return code
        }
    }

    /// The one-line message and exit code for an error. Never includes payloads or secrets:
    /// the errors' own descriptions guarantee that.
    static func describe(_ error: any Error) -> (String, ExitCode) {
        switch error {
        case let error as PostgresError:
            switch error.code {
            case .connectionFailed, .connectionClosed, .timeout, .invalidConfiguration:
                return (error.description, .databaseUnavailable)
            default:
                return ("database error: \(error.description)", .failure)
            }
        case let error as WeicheError:
            switch error.code {
            case .databaseUnavailable, .schemaMismatch: return (error.message, .databaseUnavailable)
            case .invalidConfiguration, .invalidInput: return (error.message, .usage)
            case .notFound: return (error.message, .failure)
            default: return (error.message, .failure)
            }
        case let error as UsageError:
            return (error.message, .usage)
        case let error as ConfigurationError:
            let first = error.problems.first.map { " The first: \($0)" } ?? ""
            let count = error.problems.count
            return ("the configuration has \(count) problem\(count == 1 ? "" : "s"); 'weiche config check FILE' lists them all.\(first)", .usage)
        default:
            return ("\(error)", .failure)
        }
    }

    private static func match(_ words: [String]) -> (any Command.Type)? {
        commands
            .filter { words.starts(with: $0.path) }
            .max { $0.path.count < $1.path.count }
    }

    private static func groupHelp(_ words: [String]) -> String? {
        guard let first = words.first else { return nil }
        let members = commands.filter { $0.path.count > 1 && $0.path[0] == first }
        guard !members.isEmpty else { return nil }
        return "USAGE: weiche \(first) <subcommand>\n\nSUBCOMMANDS:\n"
            + members.map { "  \($0.path.dropFirst().joined(separator: " ").padded(to: 20)) \($0.abstract)" }.joined(separator: "\n")
            + "\n\nSee 'weiche \(first) <subcommand> --help' for details."
    }

    static var overview: String {
        """
        weiche — the interagency referral gateway

        USAGE: weiche <command> [options]

        COMMANDS:
        \(commands.map { "  \($0.path.joined(separator: " ").padded(to: 20)) \($0.abstract)" }.joined(separator: "\n"))

        OPTIONS:
          -h, --help     Show help for weiche or for a command ('weiche db status --help').
          --version      Show the version.

        ENVIRONMENT:
          WEICHE_DATABASE_URL   libpq connection string or URI of the PostgreSQL server to use.
                                Unset: Weiche starts its own private PostgreSQL (Unix socket only).
          WEICHE_HOME           Where the embedded PostgreSQL keeps its data (default: ./.weiche).
          WEICHE_CONFIG         The gateway configuration file, if --config is not given.

        EXIT CODES: 0 success, 1 failure, 2 usage error, 3 database unavailable, 130 interrupted.
        """
    }
}

extension String {
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
