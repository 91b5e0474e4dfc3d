/// A `weiche` command: a type with its options, parsed from the arguments, and a `run()`.
protocol Command: Sendable {
    /// The words that select the command, e.g. `["db", "status"]`.
    static var path: [String] { get }
    /// One line for the command list.
    static var abstract: String { get }
    /// The full `--help` text: usage, options, examples.
    static var help: String { get }

    /// Reads the command's options; unknown options and missing values are usage errors.
    init(arguments: inout Arguments) throws(UsageError)

    /// Does the work. Output goes through `context`; thrown errors become a one-line message
    /// and an exit code (see ``ExitCode``).
    func run(_ context: CommandContext) async throws
}

/// The process exit codes `weiche` uses. Scripts may rely on them.
enum ExitCode: Int32 {
    /// Done.
    case success = 0
    /// The command ran and failed (see the message).
    case failure = 1
    /// The command line was wrong: unknown command or option, missing or invalid value.
    case usage = 2
    /// The database could not be reached, started or used (the schema is not this version's).
    case databaseUnavailable = 3
    /// Stopped by SIGINT/SIGTERM before the work was done; running the command again finishes it.
    case interrupted = 130
}

/// A mistake on the command line.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
