import Foundation
import WeicheCore

/// The engine: takes referrals from the agencies' channels into the durable store, and
/// delivers what is due to the recipients' channels.
///
/// Data flows one way: inbound transport → adapter → policy → store → adapter → outbound
/// transport. The executable builds a gateway from the configuration and an explicit list of
/// adapters; nothing registers itself.
public struct Gateway: Sendable {
    public let configuration: GatewayConfiguration
    public let store: PipelineStore
    public let policy: Policy
    /// Adapters by their ``AgencyAdapter/name``.
    public let adapters: [String: any AgencyAdapter]
    public let inbound: [AgencyID: any InboundTransport]
    public let outbound: [AgencyID: any OutboundTransport]
    /// This process's name in leases and attempts (several gateways may share a database).
    public let worker: String
    /// How long a claimed delivery stays this worker's before another may take it over.
    public let lease: Duration

    public init(
        configuration: GatewayConfiguration, store: PipelineStore, adapters: [any AgencyAdapter],
        inbound: [AgencyID: any InboundTransport], outbound: [AgencyID: any OutboundTransport],
        worker: String, lease: Duration = .seconds(120)
    ) {
        self.configuration = configuration
        self.store = store
        self.policy = Policy(configuration: configuration)
        self.adapters = Dictionary(adapters.map { (type(of: $0).name, $0) }, uniquingKeysWith: { first, _ in first })
        self.inbound = inbound
        self.outbound = outbound
        self.worker = worker
        self.lease = lease
    }

    /// What one pass did.
    public struct Report: Sendable, Equatable {
        public var itemsRead = 0
        public var referralsStored = 0
        public var duplicates = 0
        /// Parts of items that were rejected or refused (one per rejection).
        public var rejections = 0
        public var delivered = 0
        public var retriesScheduled = 0
        public var failed = 0

        public init() {}
    }

    /// Ingests everything the inbound channels hold now, then delivers everything due, until
    /// nothing is left (`weiche serve --once`).
    public func runOnce(batchSize: Int = 100) async throws -> Report {
        var report = Report()
        while try await ingestAvailable(limit: batchSize, delivering: true, into: &report) > 0 {}
        while try await deliverDue(limit: batchSize, into: &report) > 0 {}
        return report
    }

    // MARK: - Ingest

    /// Reads up to `limit` items from each agency's inbound channel and stores what they hold.
    /// With `delivering`, the deliveries they create are claimed in the same transaction and
    /// attempted as soon as it commits and the items are acknowledged, without waiting for a
    /// worker to claim them (`weiche serve`; Decision 0009). Returns how many items were read.
    @discardableResult
    public func ingestAvailable(limit: Int, delivering: Bool = false, into report: inout Report) async throws -> Int {
        var read = 0
        for agency in configuration.agencies {
            guard let transport = inbound[agency.id] else { continue }
            let items = try await transport.receive(limit: limit)
            guard !items.isEmpty else { continue }
            read += items.count
            // One transaction for all the referrals read; each item is acknowledged only after it.
            let (ingested, claims) = try await ingest(items, from: agency, claiming: delivering, into: &report)
            for (item, result) in zip(items, ingested) {
                try await transport.acknowledge(item, outcome: result.outcome)
            }
            try await process(claims, into: &report)
        }
        report.itemsRead += read
        return read
    }

    /// What became of one inbound item.
    public struct Ingested: Sendable, Equatable {
        /// One stored (or already stored) referral from the item.
        public struct Message: Sendable, Equatable {
            public var senderMessageID: String
            public var messageID: UUID
            /// True if it had been stored before (a repeat of the same content).
            public var duplicate: Bool
        }

        public var messages: [Message] = []
        /// The Weiche message ids of the referrals receipted by receipts in the item.
        public var receipts: [UUID] = []
        /// Parts that were rejected or recipients that were refused, with reasons.
        public var rejections: [Rejection] = []

        /// What to tell the channel: processed if anything was stored.
        public var outcome: InboundOutcome {
            messages.isEmpty && receipts.isEmpty ? .rejected(rejections) : .processed(rejections: rejections)
        }
    }

    /// Ingests one item as if it had arrived on `agency`'s channel (`weiche submit`); the
    /// channel is not involved.
    public func submit(_ item: InboundItem, from agency: AgencyID) async throws -> Ingested {
        try await submit([item], from: agency)[0]
    }

    /// Ingests items as if they had arrived on `agency`'s channel, their referrals in one
    /// transaction.
    public func submit(_ items: [InboundItem], from agency: AgencyID) async throws -> [Ingested] {
        try await submit(items, from: agency, claiming: false).ingested
    }

    /// Ingests items as if they had arrived on `agency`'s channel, their referrals in one
    /// transaction; with `claiming`, the deliveries they create are claimed for this gateway in
    /// that transaction: hand the claims to `deliver(_:into:)` once the submit has returned.
    public func submit(
        _ items: [InboundItem], from agency: AgencyID, claiming: Bool
    ) async throws -> (ingested: [Ingested], claims: [PipelineStore.Claim]) {
        guard let configured = configuration.agency(agency) else {
            throw WeicheError(.invalidInput, "no agency '\(agency)' is configured")
        }
        var report = Report()
        return try await ingest(items, from: configured, claiming: claiming, into: &report)
    }

    /// Decodes items and stores their referrals in one batch; receipts are recorded one by one.
    /// With `claiming`, also returns the deliveries created, claimed for this gateway.
    func ingest(
        _ items: [InboundItem], from agency: GatewayConfiguration.Agency, claiming: Bool, into report: inout Report
    ) async throws -> (ingested: [Ingested], claims: [PipelineStore.Claim]) {
        var results = [Ingested](repeating: Ingested(), count: items.count)
        guard let adapter = adapters[agency.adapter] else {
            for index in results.indices {
                results[index].rejections.append(Rejection(reason: "no adapter '\(agency.adapter)' in this build"))
            }
            report.rejections += items.count
            return (results, [])
        }
        var batch: [(referral: Referral, decisions: [Policy.Decision])] = []
        var owners: [Int] = []
        for (index, item) in items.enumerated() {
            for part in adapter.decode(item, from: agency.id) {
                switch part {
                case .rejected(let rejection):
                    results[index].rejections.append(rejection)
                case .receipt(let receipt):
                    switch try await store.recordReceipt(receipt, actor: "ingest/\(worker)") {
                    case .recorded(let id), .duplicate(let id):
                        results[index].receipts.append(id)
                    case .unknownReference:
                        results[index].rejections.append(Rejection(
                            position: "receipt", field: "reference",
                            reason: "no referral delivered to \(agency.id) has this Weiche message id"))
                    }
                case .referral(let referral):
                    guard referral.sender == agency.id else {
                        results[index].rejections.append(Rejection(
                            position: "message \(referral.senderMessageID)",
                            reason: "the referral names \(referral.sender) as its sender but arrived on \(agency.id)'s channel"))
                        continue
                    }
                    if let field = referral.fieldHoldingNUL {
                        // PostgreSQL's text and jsonb cannot hold U+0000: refused here, the rest of the batch stored.
                        results[index].rejections.append(Rejection(
                            position: "message \(referral.senderMessageID)", field: field,
                            reason: "contains the character U+0000, which Weiche cannot store; remove it and send again"))
                        continue
                    }
                    batch.append((referral, policy.evaluate(referral)))
                    owners.append(index)
                }
            }
        }
        let (outcomes, claims) = try await store.ingest(
            batch, actor: "ingest/\(worker)", claimingFor: claiming ? PipelineStore.IngestClaim(worker: worker, lease: lease) : nil)
        // By position, not by binding each element: that copied every referral (PipelineStore.ingest).
        for position in batch.indices {
            let (index, outcome) = (owners[position], outcomes[position])
            let senderMessageID = batch[position].referral.senderMessageID
            switch outcome {
            case .stored(let id, _):
                results[index].messages.append(.init(senderMessageID: senderMessageID, messageID: id, duplicate: false))
                report.referralsStored += 1
            case .duplicate(let id):
                results[index].messages.append(.init(senderMessageID: senderMessageID, messageID: id, duplicate: true))
                report.duplicates += 1
            case .conflict:
                results[index].rejections.append(Rejection(
                    position: "message \(senderMessageID)", reason: "this message id was used before for different content"))
                continue
            }
            for case .refused(let refusal) in batch[position].decisions {
                results[index].rejections.append(Rejection(position: "message \(senderMessageID)", reason: "refused: \(refusal.reason)"))
            }
        }
        report.rejections += results.map(\.rejections.count).reduce(0, +)
        return (results, claims)
    }

    // MARK: - Delivery

    /// Claims up to `limit` due deliveries and makes one attempt at each. Returns how many
    /// were claimed.
    @discardableResult
    public func deliverDue(limit: Int, into report: inout Report) async throws -> Int {
        let claims = try await store.claimDue(limit: limit, worker: worker, lease: lease)
        try await process(claims, into: &report)
        return claims.count
    }

    /// Makes one attempt at each of the deliveries `ids` that is pending and due, unless
    /// another worker holds it. Returns how many were claimed.
    @discardableResult
    public func deliver(_ ids: [UUID], into report: inout Report) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let claims = try await store.claimDue(limit: ids.count, worker: worker, lease: lease, only: ids)
        try await process(claims, into: &report)
        return claims.count
    }

    /// Attempts deliveries this gateway has claimed (those a claiming submit returned) and
    /// records their outcomes.
    public func deliver(_ claims: [PipelineStore.Claim], into report: inout Report) async throws {
        try await process(claims, into: &report)
    }

    /// Attempts the claimed deliveries concurrently (at most `attemptConcurrency` at a time),
    /// then records all outcomes in one transaction.
    private func process(_ claims: [PipelineStore.Claim], into report: inout Report) async throws {
        guard !claims.isEmpty else { return }
        var outcomes = [DeliveryOutcome?](repeating: nil, count: claims.count)
        await withTaskGroup(of: (Int, DeliveryOutcome).self) { group in
            var next = 0
            func start(_ index: Int) { group.addTask { (index, await attempt(claims[index])) } }
            while next < min(Self.attemptConcurrency, claims.count) {
                start(next)
                next += 1
            }
            while let (index, outcome) = await group.next() {
                outcomes[index] = outcome
                if next < claims.count {
                    start(next)
                    next += 1
                }
            }
        }
        let completions = try await store.complete(
            claims, outcomes: outcomes.map { $0 ?? .retryableFailure("the attempt did not finish") },
            retry: { configuration.retryPolicy(for: $0) })
        for completion in completions {
            switch completion {
            case .delivered: report.delivered += 1
            case .retryAt: report.retriesScheduled += 1
            case .failed: report.failed += 1
            case .leaseLost: break
            }
        }
    }

    /// How many deliveries of a batch are attempted at once.
    static let attemptConcurrency = 16

    /// One delivery attempt: encode for the recipient, hand to its channel.
    func attempt(_ claim: PipelineStore.Claim) async -> DeliveryOutcome {
        guard let agency = configuration.agency(claim.recipient) else {
            return .permanentFailure("agency \(claim.recipient) is no longer configured")
        }
        guard let adapter = adapters[agency.adapter] else {
            return .permanentFailure("no adapter '\(agency.adapter)' in this build")
        }
        guard let transport = outbound[claim.recipient] else {
            return .permanentFailure("agency \(claim.recipient) has no outbound channel")
        }
        let document: OutboundDocument
        do {
            if let receipt = claim.receipt {
                document = try adapter.encode(receipt)
            } else if let content = claim.content {
                document = try adapter.encode(content)
            } else {
                return .permanentFailure("the payload was erased")
            }
        } catch {
            return .permanentFailure("the \(agency.adapter) adapter could not encode it: \(error)")
        }
        return await transport.deliver(document, messageID: claim.messageID)
    }
}
