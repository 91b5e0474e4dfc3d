/// When to try a failed delivery again: exponential backoff with full jitter.
///
/// After failed attempt `n` (counting from 1) the next attempt waits a random time between 0
/// and `min(cap, base · 2^(n-1))`. Full jitter spreads the retries of many deliveries that
/// failed together (a recipient that was down), so they do not all return at once.
public struct Backoff: Sendable {
    public let policy: GatewayConfiguration.RetryPolicy

    public init(policy: GatewayConfiguration.RetryPolicy) {
        self.policy = policy
    }

    /// The upper bound of the wait after failed attempt `attempt` (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        precondition(attempt >= 1, "attempts count from 1")
        let doublings = min(attempt - 1, 62)
        let (scaled, overflow) = policy.base.components.seconds.multipliedReportingOverflow(by: 1 << doublings)
        if overflow || scaled >= policy.cap.components.seconds { return policy.cap }
        return min(policy.cap, policy.base * (1 << doublings))
    }

    /// A random wait after failed attempt `attempt`, in `0...ceiling`.
    public func delay<Generator: RandomNumberGenerator>(afterAttempt attempt: Int, using generator: inout Generator) -> Duration {
        let ceiling = ceiling(afterAttempt: attempt)
        let limit = ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(Int64.random(in: 0...max(0, limit), using: &generator))
    }

    /// Whether another attempt is allowed after `attempts` failed ones.
    public func allowsAnotherAttempt(after attempts: Int) -> Bool {
        attempts < policy.maxAttempts
    }
}
