import Foundation
import Synchronization
import Weiche

/// A clock that moves only when a test moves it.
public final class ManualClock: GatewayClock {
    private let current: Mutex<Date>

    /// Starts at `start` (by default 2026-01-05 08:00 UTC, a Monday morning).
    public init(start: Date = Date(timeIntervalSince1970: 1_767_600_000)) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward by `interval` seconds.
    public func advance(by interval: TimeInterval) {
        precondition(interval >= 0, "a clock does not go back")
        current.withLock { $0 += interval }
    }
}
