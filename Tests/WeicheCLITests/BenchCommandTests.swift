import Foundation
import Testing
import Weiche
@testable import WeicheCLI
import WeicheCore
import WeichePostgres
import WeicheTesting

@Suite("weiche bench runs (its numbers are not tested)")
struct BenchCommandTests {
    /// A small run of every phase, pgbench included, proves the benchmark works; nothing is
    /// asserted about speed.
    @Test func aSmallRunMeasuresEveryPhaseAndTheReference() async throws {
        let base = try await TestPostgres.configuration()
        let result = try await WeicheBinary.run(
            ["bench", "--quick", "--referrals", "300", "--directory-referrals", "50", "--history", "1000", "--backlog", "400",
             "--rate", "200", "--duration", "1", "--reference-seconds", "1", "--workers", "2", "--json"],
            environment: ["WEICHE_DATABASE_URL": base.connectionString])
        #expect(result.status == 0, "\(result.output)")
        let json = try #require(result.output.range(of: "{\n").map { String(result.output[$0.lowerBound...]) })
        struct Output: Decodable {
            struct Phase: Decodable {
                var name: String; var referrals: Int; var perSecond: Double; var gatewayCPUMicrosecondsPerReferral: Double
                var databaseCPUMicrosecondsPerReferral: Double?; var machineBusy: Double?
            }
            struct ReferenceCPU: Decodable { var databaseCPUMicrosecondsPerReferral: Double?; var pgbenchCPUMicrosecondsPerReferral: Double; var machineBusy: Double? }
            var phases: [Phase]
            var referenceUnbatched: Double?
            var referenceBatched: Double?
            var referenceUnbatchedCPU: ReferenceCPU?
            var referenceBatchedCPU: ReferenceCPU?
            var endToEndOverBatchedReference: Double?
            struct RatioCPU: Decodable {
                var endToEndGatewayMicroseconds: Double; var endToEndDatabaseMicroseconds: Double
                var referencePgbenchMicroseconds: Double; var referenceDatabaseMicroseconds: Double
            }
            var ratioCPU: RatioCPU?
            var historyOverEmpty: Double?
            var peakResidentMegabytes: Double
        }
        let output = try JSONDecoder().decode(Output.self, from: Data(json.utf8))
        #expect(Set(output.phases.map(\.name)).isSuperset(of: ["ingest (sink)", "delivery (sink)", "end to end (sink)", "end to end (directory, fsync)"]))
        #expect(output.phases.allSatisfy { $0.perSecond > 0 })
        // Each phase's own CPU per referral: something, and less than its whole wall time on two cores.
        #expect(output.phases.allSatisfy { $0.gatewayCPUMicrosecondsPerReferral > 0 })
        #expect(output.phases.allSatisfy { $0.gatewayCPUMicrosecondsPerReferral < 1_000_000 / $0.perSecond * Double(ProcessInfo.processInfo.activeProcessorCount) + 1 })
        #expect((output.referenceBatched ?? 0) > 0 && (output.referenceUnbatched ?? 0) > 0)
        // The test server runs on this machine: its CPU is found and counted, per phase and for
        // the reference, beside pgbench's own and the share of the cores busy.
        #expect(output.phases.allSatisfy { ($0.databaseCPUMicrosecondsPerReferral ?? 0) > 0 }, "\(output.phases.map(\.databaseCPUMicrosecondsPerReferral))")
        #expect(output.phases.allSatisfy { ($0.machineBusy ?? -1) > 0 && ($0.machineBusy ?? 2) <= 1 })
        for reference in [output.referenceBatchedCPU, output.referenceUnbatchedCPU] {
            #expect((reference?.databaseCPUMicrosecondsPerReferral ?? 0) > 0 && (reference?.pgbenchCPUMicrosecondsPerReferral ?? 0) > 0)
        }
        // Both sides of the ratio: the two end-to-end runs around the reference, and the reference.
        let ratio = try #require(output.ratioCPU)
        let around = output.phases.filter { $0.name == "end to end (sink)" || $0.name == "end to end (sink), after the reference" }
        #expect(around.count == 2)
        #expect(abs(ratio.endToEndGatewayMicroseconds - around.map(\.gatewayCPUMicrosecondsPerReferral).reduce(0, +) / 2) < 0.001)
        #expect(ratio.referenceDatabaseMicroseconds == output.referenceBatchedCPU?.databaseCPUMicrosecondsPerReferral)
        #expect(ratio.endToEndDatabaseMicroseconds > 0 && ratio.referencePgbenchMicroseconds > 0)
        #expect(output.endToEndOverBatchedReference != nil && output.historyOverEmpty != nil)
        #expect(output.peakResidentMegabytes > 0)
        // The schemas it made are gone.
        let pool = PostgresConnectionPool(configuration: base, maxConnections: 1)
        let left = try await pool.query("SELECT count(*)::bigint FROM pg_namespace WHERE nspname LIKE 'weiche_bench_%'").single().decode(Int.self, at: 0)
        await pool.close()
        #expect(left == 0)
    }

    /// `/proc/<pid>/stat` as Linux writes it: the command may hold spaces and parentheses, and
    /// the fields after it are counted from its last `)`.
    @Test func processStatusLinesAreReadFromTheCommandsEnd() throws {
        let line = "4242 (postgres: a (b) c) S 17 4242 4242 0 -1 4194560 900 0 0 0 123 45 678 90 20 0 1 0 100 200000 300 18446744073709551615"
        let stat = try #require(ProcStat.parse(line))
        #expect(stat.command == "postgres: a (b) c" && stat.parent == 17)
        #expect(stat.ownTicks == 123 + 45 && stat.childrenTicks == 678 + 90)
        for broken in ["", "4242 postgres S 17", "4242 (postgres) S", "4242 (postgres) S x 1 1 0 -1 0 0 0 0 0 1 1 1 1", ")( 1 2"] {
            #expect(ProcStat.parse(broken) == nil, "\(broken)")
        }
        // This process, as the kernel reports it.
        let own = try #require(ProcStat.read(getpid()))
        #expect(own.parent == getppid() && own.ownTicks >= 0)
    }

    /// The pgbench reference is generated from the statements the pipeline store executes, so
    /// the two cannot drift apart; every placeholder is filled.
    @Test func theReferenceScriptIsTheStoresOwnSQL() {
        let script = BenchReference.script()
        for statement in [PipelineStore.insertMessagesSQL, PipelineStore.insertDeliveriesSQL,
                          PipelineStore.insertAttemptsSQL, PipelineStore.completeDeliveriesSQL] {
            let skeleton = BenchReference.oneLine(statement).components(separatedBy: "$")[0]
            #expect(script.contains(skeleton), "the script runs: \(skeleton.prefix(60))…")
        }
        let append = BenchReference.oneLine(AuditBatch.appendSQL).components(separatedBy: "$")[0]
        #expect(script.components(separatedBy: append).count - 1 == 2, "both transactions append to the audit log as the gateway does")
        #expect(!(1...13).contains { script.contains("$\($0)") }, "every placeholder is filled")
        #expect(script.components(separatedBy: "COMMIT;").count - 1 == 2, "ingest (claiming) and complete commit like the gateway's")
        for setting in PipelineStore.queueSettings {
            #expect(script.contains("set_config('\(setting.name)', '\(setting.value)', true)"), "the completion runs with the gateway's settings")
        }
    }

    /// The reference stores, per referral, the very bytes the gateway stores for the same
    /// referral of the benchmark (its id apart): PostgreSQL checks, compresses and logs as much
    /// for one as for the other.
    @Test func theReferenceStoresWhatTheGatewayStores() async throws {
        let database = try await BenchDatabase.create(try await TestPostgres.configuration(), connections: 2)
        do {
            let gateway = try database.gateway(sink: BenchSink(), directory: nil, worker: "test")
            let (ingested, _) = try await gateway.submit([BenchReferrals.item(0, run: "r")], from: AgencyID("massarbeit")!, claiming: false)
            let id = try #require(ingested.first?.messages.first?.messageID)
            let stored = try await database.pool.query("SELECT referral::text FROM message WHERE id = \(id)").single().decode(String.self, at: 0)
            let payload = try BenchReference.payload()
            #expect(stored.utf8.count == payload.utf8.count)
            // The same bytes once the ids are the same (each referral of the bench has its own
            // message id, and each stored one its own Weiche id).
            let fromGateway = try ReferralJSON.decode(Array(stored.utf8))
            var fromReference = try ReferralJSON.decode(Array(payload.utf8))
            (fromReference.id, fromReference.senderMessageID) = (fromGateway.id, fromGateway.senderMessageID)
            #expect(ReferralJSON.encode(fromReference) == Array(stored.utf8))
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }

    /// The reference's rows are like the gateway's for the benchmark's referrals: every message
    /// names its person (so every audit entry does, and is indexed by it), every second one a
    /// consent. Without subjects the reference skipped three index inserts per referral.
    @Test func theReferenceWritesRowsLikeTheGateways() async throws {
        let database = try await BenchDatabase.create(try await TestPostgres.configuration(), connections: 2)
        do {
            let perSecond = try await BenchReference.run(
                database: database, batch: 10, clients: 1, seconds: 1, payload: try BenchReference.payload(), binaries: try await PostgresBinaries.locate())
            #expect(perSecond > 0)
            let messages = try await database.pool.query(
                """
                SELECT count(*)::bigint, count(subject)::bigint, count(consent_reference)::bigint, min(length(subject))::bigint,
                       count(DISTINCT referral::text)::bigint, min(octet_length(referral::text))::bigint
                FROM message
                """).single()
            let (count, subjects, consents, length) = (
                try messages.decode(Int.self, at: 0), try messages.decode(Int.self, at: 1), try messages.decode(Int.self, at: 2),
                try messages.decode(Int.self, at: 3))
            #expect(count >= 10 && subjects == count && length == 64)
            #expect(consents * 2 == count, "every second referral names a consent")
            // Each message of a batch stores its own referral: the benchmark's, with its own case number.
            let payload = try BenchReference.payload()
            #expect(try messages.decode(Int.self, at: 4) == 10 && messages.decode(Int.self, at: 5) >= payload.utf8.count)
            let audit = try await database.pool.query("SELECT count(*)::bigint, count(subject)::bigint FROM audit_log").single()
            let (entries, entriesWithSubject) = (try audit.decode(Int.self, at: 0), try audit.decode(Int.self, at: 1))
            #expect(entries == 3 * count && entriesWithSubject == entries)
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }

    /// The reference is also kept in the repository (`Tests/Benchmarks/reference*.sql`), to be
    /// read and run without the tool; the files are exactly what the bench generates, so they
    /// cannot drift from the store's statements either. After a deliberate change of those,
    /// `WEICHE_WRITE_FIXTURES=1 swift test --filter theReferenceScriptsInTheRepository` rewrites them.
    @Test func theReferenceScriptsInTheRepositoryAreTheGeneratedOnes() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Benchmarks")
        for (name, text) in [("reference.sql", BenchReference.script()), ("reference-setup.sql", BenchReference.setupScript())] {
            let url = directory.appendingPathComponent(name)
            if ProcessInfo.processInfo.environment["WEICHE_WRITE_FIXTURES"] == "1" { try Data(text.utf8).write(to: url) }
            let committed = try String(contentsOf: url, encoding: .utf8)
            #expect(committed == text, "Tests/Benchmarks/\(name) differs from what weiche bench runs")
        }
    }
}
