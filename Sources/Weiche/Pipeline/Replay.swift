import Foundation
import WeicheCore

/// Sends deliveries again on an operator's word: re-checks each against today's policy,
/// creates a new delivery linked to the one it replays (never touching the original), records
/// who and why, and delivers it through the gateway's ordinary claim, so a concurrently
/// running `weiche serve` never sends the same delivery at the same time.
public struct Replay: Sendable {
    public let gateway: Gateway
    /// Who replays (`person/<name>`), for the audit log.
    public let actor: String
    public let reason: String
    /// Whether deliveries that already succeeded are sent again.
    public let force: Bool

    public init(gateway: Gateway, actor: String, reason: String, force: Bool) {
        self.gateway = gateway
        self.actor = actor
        self.reason = reason
        self.force = force
    }

    /// Why a delivery is left alone.
    public enum Skip: String, Sendable {
        case erased = "the payload was erased"
        case alreadyDelivered = "already delivered (--force sends it again)"
        case queued = "already waiting for delivery"
    }

    /// What a replay would do with one delivery.
    public enum Verdict: Sendable {
        /// Send it again, with the content today's route allows.
        case send(PipelineStore.ReplayOrder)
        /// A replay an earlier run created and did not deliver: deliver it now.
        case deliverPending
        /// Today's policy refuses it: recorded, not sent.
        case refused(PipelineStore.ReplayRefusal)
        case skip(Skip)
    }

    public func verdict(for candidate: PipelineStore.ReplayCandidate) -> Verdict {
        switch (candidate.state, candidate.isReplay) {
        case ("pending", true): return .deliverPending
        case ("pending", false), ("delivering", _): return .skip(.queued)
        case ("delivered", _) where !force: return .skip(.alreadyDelivered)
        default: break
        }
        if candidate.kind == "receipt" {
            return .send(.init(candidate: candidate, terms: nil, note: "receipt sent again"))
        }
        guard let referral = candidate.referral else { return .skip(.erased) }
        switch gateway.policy.evaluate(referral, for: candidate.recipient) {
        case .refused(let refusal):
            return .refused(.init(candidate: candidate, code: refusal.code.rawValue, reason: refusal.reason))
        case .allowed(let allowed):
            let before = Set(candidate.sentContent?.fields.map(\.name) ?? [])
            let after = Set(allowed.referral.fields.map(\.name))
            var changes: [String] = []
            let removed = before.subtracting(after).sorted(), added = after.subtracting(before).sorted()
            if !removed.isEmpty { changes.append("now removes \(removed.joined(separator: ", "))") }
            if !added.isEmpty { changes.append("now also sends \(added.joined(separator: ", "))") }
            return .send(.init(candidate: candidate, terms: allowed.terms, note: changes.isEmpty ? "allowed as before" : changes.joined(separator: "; ")))
        }
    }

    /// Counts of what a replay did so far.
    public struct Progress: Sendable, Equatable, Encodable {
        public var considered = 0
        public var replayed = 0
        public var delivered = 0
        /// Failed again with a retryable error: due again by the retry policy (`weiche serve` continues).
        public var retrying = 0
        /// Failed again for good: dead letters again.
        public var failed = 0
        public var refused = 0
        public var erased = 0
        public var alreadyDelivered = 0
        public var queued = 0

        public init() {}
    }

    /// Replays the selection in batches, calling `progress` after each; between batches it
    /// stops when `shouldStop` says so. Everything done before stopping is committed, and a
    /// later run with the same selection does not replay it again.
    public func run(
        _ selection: PipelineStore.ReplaySelection, batchSize: Int = 100, shouldStop: () -> Bool = { false },
        progress: (Progress) -> Void = { _ in }
    ) async throws -> (progress: Progress, interrupted: Bool) {
        var counts = Progress()
        var cursor: (Date, UUID)?
        while true {
            if shouldStop() { return (counts, true) }
            let candidates = try await gateway.store.replayCandidates(selection, after: cursor, limit: batchSize)
            guard let last = candidates.last else { return (counts, false) }
            cursor = (last.createdAt, last.deliveryID)
            var orders: [PipelineStore.ReplayOrder] = []
            var refusals: [PipelineStore.ReplayRefusal] = []
            var pending: [UUID] = []
            for candidate in candidates {
                counts.considered += 1
                switch verdict(for: candidate) {
                case .send(let order): orders.append(order)
                case .deliverPending: pending.append(candidate.deliveryID)
                case .refused(let refusal): refusals.append(refusal)
                case .skip(.erased): counts.erased += 1
                case .skip(.alreadyDelivered): counts.alreadyDelivered += 1
                case .skip(.queued): counts.queued += 1
                }
            }
            counts.refused += refusals.count
            let created = try await gateway.store.createReplays(orders, refusals: refusals, actor: actor, reason: reason)
            counts.replayed += created.count
            var report = Gateway.Report()
            try await gateway.deliver(created + pending, into: &report)
            counts.delivered += report.delivered
            counts.retrying += report.retriesScheduled
            counts.failed += report.failed
            progress(counts)
        }
    }
}
