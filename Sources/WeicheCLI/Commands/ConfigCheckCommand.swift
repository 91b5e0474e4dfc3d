import Weiche

/// `weiche config check PATH`: validates a configuration file without touching the database.
struct ConfigCheckCommand: Command {
    static let path = ["config", "check"]
    static let abstract = "Check a gateway configuration file and list every problem."
    static let help = """
        USAGE: weiche config check PATH

        Reads the configuration (agencies, channels, routes, retry policy; see
        Docs/Configuration.md) and reports every problem with its JSON path, e.g.
        '$.routes[3].categories[1]: unknown data category 'helth' (did you mean 'health'?)'.
        Needs no database.

        EXIT CODES: 0 valid, 1 problems found, 2 usage error (no such file).

        EXAMPLES:
          weiche config check /etc/weiche/weiche.json
        """

    var file: String

    init(arguments: inout Arguments) throws(UsageError) {
        let rest = try arguments.positionals()
        guard rest.count == 1 else { throw UsageError(rest.isEmpty ? "which file? Give the configuration's path" : "give one configuration file") }
        file = rest[0]
    }

    func run(_ context: CommandContext) async throws {
        let bytes = try context.readBounded(file, limit: GatewayConfiguration.maximumFileSize)
        do {
            let configuration = try GatewayConfiguration.load(bytes, knownAdapters: AdapterRegistry.names)
            context.print("\(file): valid — \(configuration.agencies.count) agencies, \(configuration.routes.count) routes (sha256 \(configuration.sha256))")
        } catch let error as ConfigurationError {
            context.print("\(file): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s")")
            for problem in error.problems { context.print("  \(problem)") }
            throw StatusReported(code: .failure)
        }
    }
}
