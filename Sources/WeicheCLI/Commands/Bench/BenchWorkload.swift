import Foundation
import Synchronization
import Weiche
import WeicheCore
import WeichePostgres

/// When each message reached a point (committed, delivered).
final class Timestamps: Sendable {
    let map = Mutex<[UUID: ContinuousClock.Instant]>([:])

    func note(_ ids: [UUID], at time: ContinuousClock.Instant = .now) {
        map.withLock { map in for id in ids { map[id] = time } }
    }

    var count: Int { map.withLock { $0.count } }
    var all: [UUID: ContinuousClock.Instant] { map.withLock { $0 } }
}

/// An outbound transport that only counts what arrives (and, for the latency, notes when each
/// message arrived): the pipeline's own speed.
final class BenchSink: OutboundTransport, Sendable {
    /// When each message arrived, where the latency is measured. Not kept in the throughput
    /// phases: a dictionary under a lock per delivery was 1 % of the CPU the bench counts as
    /// the gateway's.
    let arrivals: Timestamps?
    private let delivered = Atomic<Int>(0)

    init(notingArrivals: Bool = false) {
        arrivals = notingArrivals ? Timestamps() : nil
    }

    func deliver(_ document: OutboundDocument, messageID: UUID) async -> DeliveryOutcome {
        arrivals?.note([messageID])
        delivered.add(1, ordering: .relaxed)
        return .delivered
    }

    /// Deliveries so far.
    var count: Int { delivered.load(ordering: .relaxed) }
}

/// A counter shared by concurrent tasks.
final class SharedCounter: Sendable {
    let value = Atomic<Int>(0)

    /// Adds `amount` and returns the value before.
    func take(_ amount: Int) -> Int { value.add(amount, ordering: .relaxed).oldValue }
}

/// MaßArbeit's referrals as its system writes them: about 2 KB of JSON each, four types.
enum BenchReferrals {
    static let padding = String(repeating: "Ausführliche Fallschilderung der Fachkraft mit Umlauten äöüß. ", count: 20)

    /// Each type's members, split where the padding goes: the bench makes thousands of
    /// referrals a second, and joining 2 KB strings for each showed as a cost of its own.
    static let bodies: [(before: [UInt8], after: [UInt8])] = [
        (#""type": "kinderbetreuung.anfrage", "to": "jugendamt", "legalBasis": "§ 69 SGB X", "details": { "childrenAges": [2, 5], "hoursPerWeek": 30, "startDate": "2027-01-04", "notes": ""#, #"" }"#),
        (#""type": "aufenthalt.auskunft-anfrage", "to": "auslaenderbehoerde", "legalBasis": "§ 71 SGB X", "details": { "question": ""#, #"" }"#),
        (#""type": "gesundheit.begutachtung-auftrag", "to": "gesundheitsamt", "legalBasis": "§ 50 SGB II", "details": { "reason": ""#, #"" }"#),
        (#""type": "beratung.zuweisung", "to": "psychosoziale-beratung", "legalBasis": "§ 16a SGB II", "details": { "reason": ""#, #"", "urgency": "normal" }"#),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }
    static let paddingBytes = Array(padding.utf8)

    static func item(_ index: Int, run: String) -> InboundItem {
        // Written straight into bytes: building the common part by string interpolation was
        // 2 % of the CPU the bench counts as the gateway's, a cost a real sender's file has not.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(paddingBytes.count + 1024)
        bytes.append(contentsOf: #"{ "schema": "massarbeit.referral/1", "messageId": ""#.utf8)
        UUID.timeOrdered().appendLowercased(to: &bytes)
        bytes.append(contentsOf: #"", "createdAt": "2026-11-25T08:00:00.000+01:00", "caseNumber": "BG-"#.utf8)
        bytes.append(contentsOf: String(index).utf8)
        bytes.append(contentsOf: #"", "caseworker": { "id": "kav-017", "name": "Frau Weiß", "phone": "05931 44-1234" }, "purpose": "Eingliederung in Arbeit", "person": { "familyName": "Bench"#.utf8)
        bytes.append(contentsOf: String(index % 997).utf8)
        bytes.append(contentsOf: #"", "givenName": "Person", "birthDate": "1990-02-28", "nationality": "DE", "address": "Große Straße 5, 49716 Meppen" }, "#.utf8)
        if index % 4 >= 2 {
            bytes.append(contentsOf: #""consentRef": "EW-"#.utf8)
            bytes.append(contentsOf: String(index).utf8)
            bytes.append(contentsOf: #"", "#.utf8)
        }
        let body = bodies[index % 4]
        bytes.append(contentsOf: body.before)
        bytes.append(contentsOf: paddingBytes)
        bytes.append(contentsOf: body.after)
        bytes.append(contentsOf: " }".utf8)
        return InboundItem(name: "\(run)-\(index).json", bytes: bytes)
    }
}

/// One benchmark database: a fresh schema on the server, migrated, dropped when done.
struct BenchDatabase {
    let base: PostgresConfiguration
    let schema: String
    let pool: PostgresConnectionPool

    static func create(_ base: PostgresConfiguration, connections: Int) async throws -> BenchDatabase {
        let schema = "weiche_bench_" + UUID().uuidString.prefix(8).lowercased()
        let admin = PostgresConnectionPool(configuration: base, maxConnections: 1)
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
        await admin.close()
        var scoped = base
        scoped.searchPath = [schema]
        let pool = PostgresConnectionPool(configuration: scoped, maxConnections: connections)
        _ = try await Migrator().migrate(on: pool)
        try await pool.query(PostgresQuery(unsafeSQL: BenchReference.timeOrderedUUIDFunction))
        return BenchDatabase(base: base, schema: schema, pool: pool)
    }

    /// Starts a measured phase from a comparable state: a checkpoint writes out what earlier
    /// phases (and the history) left in memory and in the WAL, so that their checkpoint does
    /// not fall into this phase. Needs the right to checkpoint (superuser or `pg_checkpoint`);
    /// without it the phase just starts.
    func settle() async {
        _ = try? await pool.query("CHECKPOINT")
    }

    func drop() async {
        await pool.close()
        let admin = PostgresConnectionPool(configuration: base, maxConnections: 1)
        _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
        await admin.close()
    }

    /// A gateway whose agencies all deliver to `sink`, or to directories under `directory`.
    func gateway(sink: BenchSink, directory: URL?, worker: String) throws -> Gateway {
        let text = ExampleConfiguration.json(root: directory?.path ?? "/nonexistent")
        let configuration = try GatewayConfiguration.load(Array(text.utf8), knownAdapters: AdapterRegistry.names)
        var outbound: [AgencyID: any OutboundTransport] = [:]
        for agency in configuration.agencies {
            if let directory {
                let path = URL(fileURLWithPath: ExampleConfiguration.outboundDirectory(root: directory.path, agency: agency.id.rawValue))
                try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
                outbound[agency.id] = DirectoryOutboundTransport(directory: path)
            } else {
                outbound[agency.id] = sink
            }
        }
        let store = PipelineStore(pool: pool, subjectKey: SubjectKey.random())
        return Gateway(configuration: configuration, store: store, adapters: AdapterRegistry.adapters, inbound: [:], outbound: outbound, worker: worker)
    }
}

/// The measured phases.
struct BenchPhases {
    let batch: Int
    let workers: Int
    let progress: @Sendable (String) -> Void

    /// Submits `count` referrals with `workers` concurrent submitters, `batch` per transaction.
    /// With `delivering`, each submitter then delivers what its submit claimed, as `weiche
    /// serve` does with what it reads; without, the deliveries wait for ``deliver(_:until:)``.
    func ingest(_ gateway: Gateway, count: Int, run: String, delivering: Bool = false) async throws -> Duration {
        let next = SharedCounter()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    while true {
                        let first = next.take(batch)
                        guard first < count else { return }
                        let items = (first..<min(first + batch, count)).map { BenchReferrals.item($0, run: run) }
                        try await submit(items, to: gateway, delivering: delivering)
                        if first / batch % 20 == 0 { progress("ingested \(min(first + batch, count)) of \(count)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - started
    }

    /// One submit from MaßArbeit; with `delivering`, followed by the delivery of what it
    /// claimed. `commits` learns when each message's transaction committed.
    func submit(_ items: [InboundItem], to gateway: Gateway, delivering: Bool, commits: Timestamps? = nil) async throws {
        let (ingested, claims) = try await gateway.submit(items, from: AgencyID("massarbeit")!, claiming: delivering)
        // A refused referral would make the run measure less work than it claims to.
        if let refused = ingested.first(where: { !$0.rejections.isEmpty })?.rejections.first {
            throw WeicheError(.system, "the benchmark's own referral was refused (\(refused.field ?? "?"): \(refused.reason)); the run would not measure what it says")
        }
        commits?.note(ingested.flatMap { $0.messages.map(\.messageID) })
        var report = Gateway.Report()
        try await gateway.deliver(claims, into: &report)
    }

    /// Delivers until `sink` (or the database) has seen `expected` deliveries.
    func deliver(_ gateway: Gateway, until done: @escaping @Sendable () async throws -> Bool) async throws -> Duration {
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var report = Gateway.Report()
                    while true {
                        let claimed = try await gateway.deliverDue(limit: batch, into: &report)
                        // Done counts after every batch: with a backlog there is always more to claim.
                        if try await done() { return }
                        if claimed == 0 { try await Task.sleep(for: .milliseconds(1)) }
                    }
                }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - started
    }
}
