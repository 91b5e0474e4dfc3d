import Foundation
import Synchronization
import WeicheCore

/// An outbound transport that keeps what it is given, and answers with scripted outcomes
/// (by default: delivered).
///
/// ```swift
/// let transport = RecordingTransport(script: [.retryableFailure("down"), .retryableFailure("down")])
/// // the first two attempts fail, later ones succeed
/// ```
public final class RecordingTransport: OutboundTransport {
    /// One call of ``deliver(_:messageID:)``.
    public struct Attempt: Sendable, Hashable {
        public var document: OutboundDocument
        public var messageID: UUID
        public var outcome: DeliveryOutcome
    }

    private struct State {
        var script: [DeliveryOutcome]
        var otherwise: DeliveryOutcome
        var attempts: [Attempt] = []
    }

    private let state: Mutex<State>

    /// `script` answers the first calls in order; `otherwise` answers every call after it.
    public init(script: [DeliveryOutcome] = [], otherwise: DeliveryOutcome = .delivered) {
        state = Mutex(State(script: script, otherwise: otherwise))
    }

    public func deliver(_ document: OutboundDocument, messageID: UUID) async -> DeliveryOutcome {
        state.withLock { state in
            let outcome = state.script.isEmpty ? state.otherwise : state.script.removeFirst()
            state.attempts.append(Attempt(document: document, messageID: messageID, outcome: outcome))
            return outcome
        }
    }

    /// Every call so far, in order.
    public var attempts: [Attempt] { state.withLock { $0.attempts } }

    /// The documents that were delivered (the calls answered with `.delivered`).
    public var delivered: [Attempt] { attempts.filter { $0.outcome == .delivered } }

    /// From now on, answers every call with `outcome` (after what remains of the script).
    public func answerFromNowOn(_ outcome: DeliveryOutcome) {
        state.withLock { $0.otherwise = outcome }
    }
}

/// An inbound transport fed by the test: ``add(_:)`` items, then see what was acknowledged.
public final class QueueInboundTransport: InboundTransport {
    private struct State {
        var pending: [InboundItem] = []
        var acknowledged: [(InboundItem, InboundOutcome)] = []
    }

    private let state = Mutex(State())

    public init(_ items: [InboundItem] = []) {
        state.withLock { $0.pending = items }
    }

    /// Makes `item` available to the gateway.
    public func add(_ item: InboundItem) {
        state.withLock { $0.pending.append(item) }
    }

    public func receive(limit: Int) async throws -> [InboundItem] {
        state.withLock { Array($0.pending.prefix(limit)) }
    }

    public func acknowledge(_ item: InboundItem, outcome: InboundOutcome) async throws {
        state.withLock { state in
            if let index = state.pending.firstIndex(of: item) {
                state.pending.remove(at: index)
                state.acknowledged.append((item, outcome))
            }
        }
    }

    /// Items handed over and not yet acknowledged.
    public var pending: [InboundItem] { state.withLock { $0.pending } }

    /// Acknowledged items with their outcomes, in order.
    public var acknowledged: [(item: InboundItem, outcome: InboundOutcome)] {
        state.withLock { $0.acknowledged.map { (item: $0.0, outcome: $0.1) } }
    }
}
