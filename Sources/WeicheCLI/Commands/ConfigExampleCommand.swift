import Weiche

/// `weiche config example [--root DIR]`: prints the county's configuration to start from.
struct ConfigExampleCommand: Command {
    static let path = ["config", "example"]
    static let abstract = "Print a configuration with every agency and flow, to start from."
    static let help = """
        USAGE: weiche config example [--root DIR]

        Prints a complete configuration: the five agencies (MaßArbeit, Ausländerbehörde,
        Jugendamt, Gesundheitsamt, psychosocial counselling) with directory channels, and a
        route for every flow with its legal basis, purpose, data categories, consent and
        notice. It is the same as Deploy/weiche.example.json. Edit the channels and wording,
        then check it with 'weiche config check'.

        OPTIONS:
          --root DIR    Put the agencies' directories under DIR (default /srv/weiche):
                        DIR/<agency>/to-weiche (read) and DIR/<agency>/from-weiche (written).

        EXAMPLES:
          weiche config example > /etc/weiche/weiche.json
          weiche config example --root /mnt/austausch | weiche config check /dev/stdin
        """

    var root: String

    init(arguments: inout Arguments) throws(UsageError) {
        root = try arguments.option("--root") ?? "/srv/weiche"
        try arguments.finish()
        guard root.hasPrefix("/"), !root.contains("\0") else {
            throw UsageError("--root must be an absolute directory path")
        }
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
    }

    func run(_ context: CommandContext) async throws {
        var text = ExampleConfiguration.json(root: root)
        text.removeLast()  // print adds the final line break
        context.print(text)
    }
}
