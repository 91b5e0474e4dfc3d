import Foundation
import Weiche
import WeicheCore
import WeichePostgres

/// `weiche bench`: throughput, latency and growth of this installation, against pgbench
/// running the same SQL.
struct BenchCommand: Command {
    static let path = ["bench"]
    static let abstract = "Measure throughput, latency and growth, against pgbench running the same SQL."
    static let help = """
        USAGE: weiche bench [--quick] [--referrals N] [--directory-referrals N] [--rate R]
                            [--duration S] [--history N] [--backlog N] [--batch N]
                            [--workers N] [--reference-seconds S] [--no-reference] [--json]
               weiche bench --reference-script
               weiche bench --reference-payload

        Measures the gateway on this database (the embedded one, or WEICHE_DATABASE_URL), each
        phase in a schema it creates and drops, with realistic MaßArbeit referrals (about 2 KB of
        JSON, four types) through the real adapter, policy, store, audit log and delivery:

          throughput   referrals/s for ingest alone, delivery alone and end to end, with an
                       in-memory sink (the pipeline's own speed) and with the directory
                       transport (fsync'd files);
          latency      at a fixed offered rate: from the submit's commit to delivery, p50, p99,
                       p99.9 and max;
          growth       end to end with N delivered referrals and their audit entries already
                       in the tables, against the empty database; peak memory with a backlog;
          reference    pgbench running the gateway's own statements, unbatched and at the
                       gateway's batch size, in the same run (batched between two end-to-end
                       runs); the end-to-end ÷ reference ratio.

        Every phase and reference run also reports where the CPU went, per referral: the
        gateway's (this process; pgbench's for the reference), the database server's (all its
        processes, when it runs on this machine) and the share of the cores that was busy.

        Progress goes to standard error. It is a benchmark, not a test: run it on a quiet machine.

        OPTIONS:
          --quick                 A run under 30 seconds (small numbers everywhere).
          --referrals N           Throughput runs (default 100000; quick 2000).
          --directory-referrals N With the directory transport (default referrals ÷ 10).
          --rate R --duration S   Latency: offered referrals per second and for how long (1000, 60).
          --history N             Growth: delivered referrals already present (default 1000000).
          --backlog N             Referrals waiting while the gateway works, for peak memory (1000000).
          --batch N               Referrals per transaction (default 100).
          --workers N             Concurrent submitters and delivery workers (default 4).
          --reference-seconds S   How long each pgbench run lasts (default 15).
          --no-reference          Skip pgbench.
          --json                  One JSON object (see Docs/Performance.md).
          --reference-script      Print the pgbench script of the reference and how to run it
                                  (pgbench -M prepared -f), then stop: to profile the SQL on its own
                                  (pgbench -r reports each statement's latency).
          --reference-payload     Print the referral the reference stores for every message (the
                                  form the gateway stores one of the benchmark's in), for the
                                  script's payload variable, then stop.

        EXAMPLES:
          weiche bench --quick
          weiche bench --referrals 20000 --history 200000 --backlog 100000 --json > bench.json
        """

    var referrals = 100_000
    var directoryReferrals: Int?
    var rate = 1_000
    var duration = 60
    var history = 1_000_000
    var backlog = 1_000_000
    var batch = 100
    var workers = 4
    var referenceSeconds = 15
    var reference = true
    var json = false
    var printReferenceScript = false
    var printReferencePayload = false

    init(arguments: inout Arguments) throws(UsageError) {
        if arguments.flag("--reference-script") {
            printReferenceScript = true
            try arguments.finish()
            return
        }
        if arguments.flag("--reference-payload") {
            printReferencePayload = true
            try arguments.finish()
            return
        }
        if arguments.flag("--quick") {
            (referrals, rate, duration, history, backlog, referenceSeconds) = (2_000, 500, 4, 10_000, 5_000, 3)
        }
        func number(_ name: String, _ range: ClosedRange<Int>, _ value: inout Int) throws(UsageError) {
            guard let text = try arguments.option(name) else { return }
            guard let parsed = Int(text), range.contains(parsed) else { throw UsageError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)") }
            value = parsed
        }
        try number("--referrals", 1...10_000_000, &referrals)
        var directory = -1
        try number("--directory-referrals", 0...10_000_000, &directory)
        directoryReferrals = directory >= 0 ? directory : nil
        try number("--rate", 1...100_000, &rate)
        try number("--duration", 1...3_600, &duration)
        try number("--history", 0...100_000_000, &history)
        try number("--backlog", 0...100_000_000, &backlog)
        try number("--batch", 1...10_000, &batch)
        try number("--workers", 1...64, &workers)
        try number("--reference-seconds", 1...3_600, &referenceSeconds)
        reference = !arguments.flag("--no-reference")
        json = arguments.flag("--json")
        try arguments.finish()
    }

    struct Result: Encodable {
        struct Phase: Encodable {
            var name: String
            var referrals: Int
            var seconds: Double
            var perSecond: Double
            /// CPU time (user and system) this process spent in the phase per referral: the
            /// gateway's own cost, with the benchmark's making of referrals and its sink.
            var gatewayCPUMicrosecondsPerReferral: Double
            /// The database server's CPU time per referral (all its processes); absent when
            /// the server does not run on this machine.
            var databaseCPUMicrosecondsPerReferral: Double?
            /// The share of all cores' time that was busy during the phase (0 to 1).
            var machineBusy: Double?
        }
        /// Where a reference run's CPU went, per referral.
        struct ReferenceCPU: Encodable {
            var databaseCPUMicrosecondsPerReferral: Double?
            var pgbenchCPUMicrosecondsPerReferral: Double
            var machineBusy: Double?
        }
        struct Latency: Encodable {
            var offeredPerSecond: Int
            /// The rate at which submits actually committed: below the offered rate, the
            /// submitter fell behind and the offered load was not sustained.
            var committedPerSecond: Double
            var seconds: Int
            var referrals: Int
            var p50Milliseconds: Double
            var p99Milliseconds: Double
            var p999Milliseconds: Double
            var maxMilliseconds: Double
        }
        var phases: [Phase] = []
        var latency: Latency?
        var referenceUnbatched: Double?
        var referenceBatched: Double?
        var referenceUnbatchedCPU: ReferenceCPU?
        var referenceBatchedCPU: ReferenceCPU?
        var endToEndOverBatchedReference: Double?
        /// Both sides of the ratio, per referral: the two end-to-end runs around the reference
        /// (their mean) and the batched reference.
        var ratioCPU: RatioCPU?
        struct RatioCPU: Encodable {
            var endToEndGatewayMicroseconds: Double
            var endToEndDatabaseMicroseconds: Double
            var referencePgbenchMicroseconds: Double
            var referenceDatabaseMicroseconds: Double
        }
        var historyOverEmpty: Double?
        var historyRows: Int
        var backlog: Int
        var peakResidentMegabytes: Double = 0
        var batch: Int
        var workers: Int
    }

    func run(_ context: CommandContext) async throws {
        let payload = try BenchReference.payload()
        if printReferencePayload {
            // The benchmark's own made-up referral ("Bench0 Person"), asked for by name: no
            // stored message, no person's data.
            context.print(payload)
            return
        }
        if printReferenceScript {
            context.print(BenchReference.script().trimmingCharacters(in: .newlines))
            context.note("""
                Run it on a migrated schema, e.g.: weiche bench --reference-script > reference.sql
                It calls bench_time_ordered_uuid(), ids ordered by time as the gateway makes them; create it first:
                \(BenchReference.timeOrderedUUIDFunction);
                pgbench -n -r -M prepared -c \(workers) -j \(workers) -T 15 -f reference.sql -D batch=\(batch) -D "payload=$(weiche bench --reference-payload)" <conninfo>
                The payload is one of the benchmark's referrals as the gateway stores it (\(payload.utf8.count) bytes).
                """)
            return
        }
        let base = try await baseConfiguration(context)
        let phases = BenchPhases(batch: batch, workers: workers) { line in context.progress(line + "         ") }
        var result = Result(historyRows: history, backlog: backlog, batch: batch, workers: workers)
        func note(_ line: String) { context.note((context.showsProgress ? "\r" : "") + line) }
        let meter = await CPUMeter.locate(base)
        var phaseCPU = meter.sample()
        /// Starts a phase's CPU count (phases that prepare data first start it after that).
        func start() { phaseCPU = meter.sample() }
        func record(_ name: String, _ count: Int, _ time: Duration) {
            let cpu = meter.sample().since(phaseCPU, referrals: count)
            result.phases.append(.init(
                name: name, referrals: count, seconds: time.seconds, perSecond: Double(count) / max(time.seconds, 0.000_001),
                gatewayCPUMicrosecondsPerReferral: cpu.gateway, databaseCPUMicrosecondsPerReferral: cpu.database, machineBusy: cpu.machineBusy))
            note("\(name): \(count) in \(String(format: "%.2f", time.seconds)) s = \(Int(Double(count) / max(time.seconds, 0.000_001)))/s, "
                 + "CPU µs per referral: gateway \(Int(cpu.gateway))" + Self.describe(database: cpu.database, busy: cpu.machineBusy))
            start()
        }
        /// pgbench running the gateway's statements with `batch` referrals per transaction, in a schema of its own.
        func runReference(batch size: Int) async throws -> (perSecond: Double, cpu: Result.ReferenceCPU) {
            let binaries = try await PostgresBinaries.locate()
            note("reference: pgbench, batches of \(size), \(referenceSeconds) s")
            let (perSecond, cpu) = try await withDatabase(base) { database in
                await database.settle()
                let before = meter.sample()
                let perSecond = try await BenchReference.run(
                    database: database, batch: size, clients: workers, seconds: referenceSeconds, payload: payload, binaries: binaries)
                return (perSecond, meter.sample().since(before, referrals: Int(perSecond * Double(referenceSeconds))))
            }
            note("reference (batches of \(size)): \(Int(perSecond))/s, CPU µs per referral: pgbench \(Int(cpu.client))"
                 + Self.describe(database: cpu.database, busy: cpu.machineBusy))
            return (perSecond, Result.ReferenceCPU(
                databaseCPUMicrosecondsPerReferral: cpu.database, pgbenchCPUMicrosecondsPerReferral: cpu.client, machineBusy: cpu.machineBusy))
        }

        // Throughput with the sink: ingest alone, then delivery alone.
        note("throughput: \(referrals) referrals, batches of \(batch), \(workers) workers")
        try await withDatabase(base) { database in
            let sink = BenchSink()
            let gateway = try database.gateway(sink: sink, directory: nil, worker: "bench")
            await database.settle()
            start()
            record("ingest (sink)", referrals, try await phases.ingest(gateway, count: referrals, run: "a"))
            await database.settle()
            start()
            record("delivery (sink)", referrals, try await phases.deliver(gateway, until: { sink.count >= referrals }))
        }
        let onDisk = directoryReferrals ?? max(referrals / 10, 1)
        if onDisk > 0 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-bench-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: directory) }
            try await withDatabase(base) { database in
                let gateway = try database.gateway(sink: BenchSink(), directory: directory, worker: "bench")
                let store = database.pool
                await database.settle()
                start()
                let started = ContinuousClock.now
                _ = try await phases.ingest(gateway, count: onDisk, run: "d", delivering: true)
                // What the submitters could not deliver themselves (nothing, unless a write failed).
                _ = try await phases.deliver(gateway, until: {
                    try await store.query("SELECT count(*)::bigint FROM delivery WHERE state = 'delivered'").single().decode(Int.self, at: 0) >= onDisk
                })
                record("end to end (directory, fsync)", onDisk, ContinuousClock.now - started)
            }
        }

        // End to end, the batched reference, end to end again, right after one another: the
        // ratio compares the reference with the two runs around it, which cancels a steady
        // drift of the shared machine's speed. (The directory phase comes before all three, so
        // as not to come between them.)
        let empty = try await withDatabase(base) { database in
            try await endToEnd(in: database, phases, count: referrals, run: "e", started: start)
        }
        record("end to end (sink)", referrals, empty)
        if reference {
            let (batched, cpu) = try await runReference(batch: batch)
            (result.referenceBatched, result.referenceBatchedCPU) = (batched, cpu)
            let again = try await withDatabase(base) { database in
                try await endToEnd(in: database, phases, count: referrals, run: "f", started: start)
            }
            record("end to end (sink), after the reference", referrals, again)
            let perSecond = Double(2 * referrals) / max((empty + again).seconds, 0.000_001)
            result.endToEndOverBatchedReference = perSecond / batched
            let around = result.phases.suffix(2)
            if let first = around.first?.databaseCPUMicrosecondsPerReferral, let second = around.last?.databaseCPUMicrosecondsPerReferral,
                let referenceDatabase = cpu.databaseCPUMicrosecondsPerReferral {
                result.ratioCPU = .init(
                    endToEndGatewayMicroseconds: around.map(\.gatewayCPUMicrosecondsPerReferral).reduce(0, +) / 2,
                    endToEndDatabaseMicroseconds: (first + second) / 2,
                    referencePgbenchMicroseconds: cpu.pgbenchCPUMicrosecondsPerReferral, referenceDatabaseMicroseconds: referenceDatabase)
            }
        }

        if history > 0 {
            note("growth: \(history) delivered referrals of history…")
            // Empty and with history in turn, twice (empty, history, history, empty), right after
            // one another: on a shared machine speed drifts over minutes, and this order cancels
            // a steady drift. The history is written first, the new referrals added to it.
            result.historyOverEmpty = try await withDatabase(base) { grown in
                try await Self.fillHistory(grown.pool, count: history, progress: phases.progress)
                var emptyTime = Duration.zero, grownTime = Duration.zero
                for (round, withHistory) in [false, true, true, false].enumerated() {
                    let name = withHistory ? "end to end (sink), \(history) in history" : "end to end (sink), empty, beside it"
                    let time = try await withHistory
                        ? endToEnd(in: grown, phases, count: referrals, run: "g\(round)", started: start)
                        : withDatabase(base) { try await endToEnd(in: $0, phases, count: referrals, run: "g\(round)", started: start) }
                    record(name + (round < 2 ? " (1)" : " (2)"), referrals, time)
                    if withHistory { grownTime += time } else { emptyTime += time }
                }
                return emptyTime.seconds / max(grownTime.seconds, 0.000_001)
            }
        }

        note("latency: \(rate)/s offered for \(duration) s")
        result.latency = try await latency(base, phases)

        if backlog > 0 {
            note("backlog: \(backlog) referrals waiting while \(min(referrals, backlog)) are delivered")
            try await withDatabase(base) { database in
                let sink = BenchSink()
                let gateway = try database.gateway(sink: sink, directory: nil, worker: "bench")
                _ = try await phases.ingest(gateway, count: backlog, run: "b")
                await database.settle()
                start()
                let target = min(referrals, backlog)
                record("delivery with \(backlog) waiting", target, try await phases.deliver(gateway, until: { sink.count >= target }))
            }
        }

        if reference {
            (result.referenceUnbatched, result.referenceUnbatchedCPU) = try await runReference(batch: 1)
        }

        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        result.peakResidentMegabytes = Double(usage.ru_maxrss) / 1024
        if json {
            try context.printJSON(result)
        } else {
            print(result, context)
        }
    }

    func print(_ result: Result, _ context: CommandContext) {
        func busy(_ share: Double?) -> String { share.map(Self.percent) ?? "-" }
        func micros(_ value: Double?) -> String { value.map(Self.micros) ?? "-" }
        context.print("PHASE".padded(to: 48) + "REFERRALS".padded(to: 11) + "SECONDS".padded(to: 10) + "REFERRALS/S".padded(to: 13)
            + "CPU µs/REFERRAL: GATEWAY".padded(to: 26) + "DATABASE".padded(to: 10) + "CORES BUSY")
        for phase in result.phases {
            context.print(phase.name.padded(to: 48) + String(phase.referrals).padded(to: 11) + String(format: "%.2f", phase.seconds).padded(to: 10)
                + String(Int(phase.perSecond)).padded(to: 13) + micros(phase.gatewayCPUMicrosecondsPerReferral).padded(to: 26)
                + micros(phase.databaseCPUMicrosecondsPerReferral).padded(to: 10) + busy(phase.machineBusy))
        }
        for (label, perSecond, cpu) in [("unbatched", result.referenceUnbatched, result.referenceUnbatchedCPU),
                                        ("batches of \(result.batch)", result.referenceBatched, result.referenceBatchedCPU)] {
            guard let perSecond else { continue }
            context.print("reference: pgbench, same SQL, \(label)".padded(to: 69) + String(Int(perSecond)).padded(to: 13)
                + ("pgbench " + micros(cpu?.pgbenchCPUMicrosecondsPerReferral)).padded(to: 26)
                + micros(cpu?.databaseCPUMicrosecondsPerReferral).padded(to: 10) + busy(cpu?.machineBusy))
        }
        if let latency = result.latency {
            context.print(String(format: "\nlatency at %d/s for %d s (%d referrals), commit → delivered: p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms",
                                 latency.offeredPerSecond, latency.seconds, latency.referrals, latency.p50Milliseconds, latency.p99Milliseconds,
                                 latency.p999Milliseconds, latency.maxMilliseconds))
            let sustained = latency.committedPerSecond >= 0.95 * Double(latency.offeredPerSecond)
            context.print(String(format: "submits committed at %.0f/s", latency.committedPerSecond)
                + (sustained ? "" : " — the offered rate was NOT sustained; the latency above is of a lower load"))
        }
        if let ratio = result.endToEndOverBatchedReference {
            context.print(String(format: "end to end ÷ batched reference: %.2f", ratio))
            // What the ratio comes from, where both sides' database CPU is known.
            if let cpu = result.ratioCPU {
                context.print(String(
                    format: "  CPU per referral: end to end %.0f µs (gateway %.0f, database %.0f); reference %.0f µs (pgbench %.0f, database %.0f)",
                    cpu.endToEndGatewayMicroseconds + cpu.endToEndDatabaseMicroseconds, cpu.endToEndGatewayMicroseconds,
                    cpu.endToEndDatabaseMicroseconds, cpu.referencePgbenchMicroseconds + cpu.referenceDatabaseMicroseconds,
                    cpu.referencePgbenchMicroseconds, cpu.referenceDatabaseMicroseconds))
            }
        }
        if let ratio = result.historyOverEmpty { context.print(String(format: "end to end with %d in history ÷ empty: %.2f", result.historyRows, ratio)) }
        context.print(String(format: "peak resident memory of the whole run: %.0f MB (backlog %d)", result.peakResidentMegabytes, result.backlog))
    }

    /// `, database N, cores busy N %` for a progress line: what is known.
    static func describe(database: Double?, busy: Double?) -> String {
        (database.map { ", database " + micros($0) } ?? "") + (busy.map { ", cores busy " + percent($0) } ?? "")
    }

    /// Microseconds, rounded, as the table and the progress lines show them.
    static func micros(_ value: Double) -> String { String(Int(value.rounded())) }

    /// A share of 0 to 1 as a rounded percentage, e.g. `92 %`.
    static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded())) %" }

    func baseConfiguration(_ context: CommandContext) async throws -> PostgresConfiguration {
        switch try context.database() {
        case .external(let configuration): return configuration
        case .embedded(let embedded):
            return try await embedded.start { directory in
                context.note("Creating Weiche's embedded PostgreSQL in \(directory.path) (first run; takes a few seconds)…")
            }
        }
    }

    func withDatabase<T>(_ base: PostgresConfiguration, _ body: (BenchDatabase) async throws -> T) async throws -> T {
        let database = try await BenchDatabase.create(base, connections: workers * 2 + 2)
        do {
            let result = try await body(database)
            await database.drop()
            return result
        } catch {
            await database.drop()
            throw error
        }
    }

    /// Ingest and delivery at once, in `database` (empty, or with a history already written):
    /// each submitter delivers what its submit claimed, as `weiche serve` does with what it
    /// reads. `started` is called when the measured part begins.
    func endToEnd(in database: BenchDatabase, _ phases: BenchPhases, count: Int, run: String, started: () -> Void) async throws -> Duration {
        await database.settle()
        started()
        let sink = BenchSink()
        let gateway = try database.gateway(sink: sink, directory: nil, worker: "bench")
        let begin = ContinuousClock.now
        _ = try await phases.ingest(gateway, count: count, run: run, delivering: true)
        _ = try await phases.deliver(gateway, until: { sink.count >= count })
        return ContinuousClock.now - begin
    }

    /// Delivered referrals and their audit entries (received, routed, delivered),
    /// written by SQL in chunks.
    static func fillHistory(_ pool: PostgresConnectionPool, count: Int, progress: @Sendable (String) -> Void) async throws {
        let chunk = 20_000
        var done = 0
        while done < count {
            let last = min(done + chunk, count)
            try await pool.withTransaction { connection in
                try await connection.query("""
                    WITH m AS (
                        INSERT INTO message (id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose, content_sha256, referral)
                        SELECT bench_time_ordered_uuid(), 'massarbeit', 'history-' || g, 'kinderbetreuung.anfrage', now() - interval '30 days',
                               now() - interval '30 days', '§ 69 SGB X', 'Kinderbetreuung', md5(g::text), '{}'::json
                        FROM generate_series(\(done + 1), \(last)) g
                        RETURNING id
                    ), d AS (
                        INSERT INTO delivery (id, message_id, recipient, state, attempts, due_at, created_at, finished_at)
                        SELECT bench_time_ordered_uuid(), id, 'jugendamt', 'delivered', 1, now() - interval '30 days', now() - interval '30 days', now() - interval '30 days'
                        FROM m RETURNING message_id
                    )
                    SELECT audit_append((SELECT jsonb_agg(jsonb_build_object('at', now(), 'actor', 'history', 'kind', k, 'message', message_id, 'agency', 'jugendamt'))
                                         FROM d, unnest(ARRAY['received', 'routed', 'delivered']) k))
                    """)
            }
            done = last
            progress("history: \(done) of \(count)")
        }
        // Vacuumed as well as analysed, as a history that grew over months would be: otherwise
        // autovacuum's first pass over the million rows just inserted runs during the measured
        // phase and is counted as the cost of having history.
        // Only the bench's own tables: the database may hold other schemas, busy with other work.
        progress("history: vacuuming and analysing")
        let tables = try await pool.query("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
            .map { try $0.decode(String.self, at: 0) }
        guard !tables.isEmpty else { return }
        try await pool.query(PostgresQuery(unsafeSQL: "VACUUM (ANALYZE) " + tables.map(PostgresQuery.quoteIdentifier).joined(separator: ", ")))
    }

    /// Offers `rate` referrals per second for `duration` seconds, each tick's arrivals in one
    /// submit of at most `batch`, up to `workers` submits at once; measures from each submit's
    /// commit to the referral's delivery, and reports the rate the submits committed at.
    func latency(_ base: PostgresConfiguration, _ phases: BenchPhases) async throws -> Result.Latency {
        try await withDatabase(base) { database in
            let sink = BenchSink(notingArrivals: true)
            let gateway = try database.gateway(sink: sink, directory: nil, worker: "bench")
            await database.settle()
            let commits = Timestamps()
            let total = rate * duration
            let rate = self.rate
            let workers = self.workers
            let offered: Duration = try await {
                let started = ContinuousClock.now
                // Up to `workers` submits in flight, as several agencies' channels would be: one
                // sequential submitter could not sustain the offered rate once commits queue.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var sent = 0
                    var inFlight = 0
                    while sent < total {
                        // At most one batch per transaction, like the gateway's own ingest: when
                        // behind, the submitters catch up in bounded steps, not one huge submit.
                        let due = min(total, Int((ContinuousClock.now - started).seconds * Double(rate)), sent + batch)
                        if due > sent && inFlight < workers {
                            let range = sent..<due
                            group.addTask {
                                let items = range.map { BenchReferrals.item($0, run: "l") }
                                try await phases.submit(items, to: gateway, delivering: true, commits: commits)
                            }
                            inFlight += 1
                            sent = due
                        } else if inFlight >= workers {
                            try await group.next()
                            inFlight -= 1
                        } else {
                            try await Task.sleep(for: .milliseconds(1))
                        }
                    }
                    try await group.waitForAll()
                }
                return ContinuousClock.now - started
            }()
            // Each submitter delivered what it claimed; anything else (nothing, unless an attempt
            // failed) is left to the workers.
            _ = try await phases.deliver(gateway, until: { sink.count >= total })
            let committed = commits.all
            let arrived = sink.arrivals?.all ?? [:]
            var latencies = committed.compactMap { id, commit in arrived[id].map { ($0 - commit).seconds * 1000 } }.sorted()
            if latencies.isEmpty { latencies = [0] }
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            return Result.Latency(
                offeredPerSecond: rate, committedPerSecond: Double(total) / max(offered.seconds, 0.000_001), seconds: duration, referrals: latencies.count, p50Milliseconds: percentile(0.5),
                p99Milliseconds: percentile(0.99), p999Milliseconds: percentile(0.999), maxMilliseconds: latencies.last!)
        }
    }
}

