import Foundation

/// The time the gateway goes by: when referrals arrive, when a retry is due, when a lease ends.
///
/// Injected everywhere time matters, so tests move time forward instead of sleeping.
public protocol GatewayClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The system's wall clock.
public struct SystemClock: GatewayClock {
    public init() {}
    public func now() -> Date { Date() }
}
