import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// `weiche demo`: every flow of the county, end to end, through the real adapters, directory
/// channels, policy and pipeline, on the embedded PostgreSQL (or `WEICHE_DATABASE_URL`).
struct DemoCommand: Command {
    static let path = ["demo"]
    static let abstract = "Run every flow of the county end to end and show what happened."
    static let help = """
        USAGE: weiche demo [--directory DIR] [--keep-schema]

        Plays a morning at the county: MaßArbeit, the Ausländerbehörde and the Jugendamt drop
        referrals into their directories; Weiche checks each against the routes of
        Deploy/weiche.example.json, removes what a recipient may not see, and delivers it in
        the recipient's format. The agencies answer, accept and reject, and the answers find
        their way back. On the way: two transfers no route allows (refused), a field removed
        by minimisation, diagnoses kept from the job centre, a recipient that is offline at
        first (retried), a name the Jugendamt's Windows-1252 system cannot store (dead
        letter), and a CSV row with an impossible date (rejected alone).

        It then prints each referral with its route, legal basis, what was removed, its
        deliveries and its answers, answers a data subject's request (GDPR Art. 15) from the
        audit log, and verifies the log's hash chain. The database work happens in a schema of
        its own, which is dropped at the end; the agencies' directories stay for you to look at.
        People are hashed with WEICHE_SUBJECT_KEY if it is set, else with a key made for the run.

        OPTIONS:
          --directory DIR   Where to create the agencies' directories (must not exist or be
                            empty). Default: a new directory under the temporary directory.
          --keep-schema     Keep the demo's database schema and print its name, to explore it
                            with WEICHE_DATABASE_SCHEMA=<name> weiche audit query … .

        EXAMPLES:
          swift run weiche demo
          weiche demo --directory ~/weiche-demo && ls ~/weiche-demo/*/from-weiche
        """

    var directory: String?
    var keepSchema: Bool

    init(arguments: inout Arguments) throws(UsageError) {
        directory = try arguments.option("--directory")
        keepSchema = arguments.flag("--keep-schema")
        try arguments.finish()
    }

    /// The demo's retry policy: quick, so that the retried delivery is seen within a second.
    static let retry = ExampleConfiguration.Retry(baseSeconds: 0.3, capSeconds: 1, maxAttempts: 3)

    func run(_ context: CommandContext) async throws {
        let started = ContinuousClock.now
        let root = try DemoSite.create(at: directory)
        context.print("Weiche demo: every flow of the county, end to end.")
        context.print("Agency directories: \(root.path)   (configuration: \(root.path)/weiche.json)\n")

        let text = ExampleConfiguration.json(root: root.path, retry: Self.retry)
        try Data(text.utf8).write(to: root.appendingPathComponent("weiche.json"))
        let configuration = try GatewayConfiguration.load(Array(text.utf8), knownAdapters: AdapterRegistry.names)
        let subjectKey = try SubjectKey.fromEnvironment(context.environment) ?? SubjectKey.random()

        let schema = "weiche_demo_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try await context.openPool(maxConnections: 1)
        do {
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
            let pool = try await context.openPool(maxConnections: 4, searchPath: [schema])
            do {
                _ = try await Migrator().migrate(on: pool)
                let store = PipelineStore(pool: pool, subjectKey: subjectKey)
                let gateway = Gateway(configuration: configuration, store: store, adapters: AdapterRegistry.adapters, worker: "demo")
                try await gateway.recordConfigurationApplied()
                let stories = try await DemoRun(context: context, gateway: gateway, pool: pool, site: DemoSite(root: root)).play()
                try await DemoSummary(context: context, store: gateway.store, configuration: configuration, root: root).print(stories)
                try await DemoSummary.printAudit(context: context, log: AuditLog(pool: pool), subjectKey: subjectKey)
                await pool.close()
            } catch {
                await pool.close()
                throw error
            }
            if keepSchema {
                context.print("\nKept the schema \(schema): WEICHE_DATABASE_SCHEMA=\(schema) weiche audit query --event minimised")
            } else {
                try await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
            }
            await admin.close()
        } catch {
            _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(schema) CASCADE"))
            await admin.close()
            throw error
        }
        let elapsed = ContinuousClock.now - started
        context.print("\nDone in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))).")
        context.print("Look at what each agency received:  ls \(root.path)/*/from-weiche")
        context.print("and what Weiche did with what they sent:  ls \(root.path)/*/to-weiche/*/   (processed/, rejected/, *.error.txt)")
    }
}

/// The demo's agency directories.
struct DemoSite {
    let root: URL

    func inbound(_ agency: String) -> URL { URL(fileURLWithPath: ExampleConfiguration.inboundDirectory(root: root.path, agency: agency)) }
    func outbound(_ agency: String) -> URL { URL(fileURLWithPath: ExampleConfiguration.outboundDirectory(root: root.path, agency: agency)) }

    /// Creates the directory tree; the counselling service's delivery directory is left out,
    /// as if its share were offline.
    static func create(at path: String?) throws -> URL {
        let manager = FileManager.default
        let root: URL
        if let path {
            root = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
            if let existing = try? manager.contentsOfDirectory(atPath: root.path), !existing.isEmpty {
                throw WeicheError(.invalidInput, "\(root.path) is not empty; give a new or empty directory to --directory")
            }
        } else {
            let stamp = Date().formatted(Date.VerbatimFormatStyle(
                format: "\(year: .defaultDigits)\(month: .twoDigits)\(day: .twoDigits)-\(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased))\(minute: .twoDigits)\(second: .twoDigits)",
                timeZone: .current, calendar: Calendar(identifier: .gregorian)))
            root = manager.temporaryDirectory.appendingPathComponent("weiche-demo-\(stamp)-\(UUID().uuidString.prefix(4).lowercased())", isDirectory: true)
        }
        let site = DemoSite(root: root)
        do {
            for agency in ExampleConfiguration.agencies.map(\.id) {
                try manager.createDirectory(at: site.inbound(agency), withIntermediateDirectories: true)
                if agency != "psychosoziale-beratung" {
                    try manager.createDirectory(at: site.outbound(agency), withIntermediateDirectories: true)
                }
            }
        } catch {
            throw WeicheError(.system, "cannot create the demo's directories under \(root.path): \(error.localizedDescription)")
        }
        return root
    }

    /// Drops a document into an agency's directory as its system would: written aside, then renamed.
    func drop(_ bytes: [UInt8], named name: String, by agency: String) throws {
        let directory = inbound(agency)
        let temporary = directory.appendingPathComponent(".\(name).part")
        try Data(bytes).write(to: temporary)
        try FileManager.default.moveItem(at: temporary, to: directory.appendingPathComponent(name))
    }

    func drop(_ text: String, named name: String, by agency: String) throws {
        try drop(Array(text.utf8), named: name, by: agency)
    }
}
