import Foundation
import WeicheCore

/// The gateway's configuration: the agencies, how to reach them, the routes between them, and
/// the retry policy. Read from one JSON file (see `Docs/Configuration.md`) by
/// ``GatewayConfiguration/load(_:knownAdapters:)``.
public struct GatewayConfiguration: Sendable, Equatable {
    public var agencies: [Agency]
    public var routes: [Route]
    public var retry: RetryPolicy
    /// SHA-256 of the file's bytes, in hexadecimal: recorded when the gateway starts.
    public var sha256: String

    /// One party Weiche exchanges referrals with.
    public struct Agency: Sendable, Equatable {
        public var id: AgencyID
        public var name: String
        /// The ``AgencyAdapter/name`` of the adapter that speaks its format.
        public var adapter: String
        /// Where its referrals come from; `nil` for an agency that only receives.
        public var inbound: Channel?
        /// Where documents for it go; `nil` for an agency that only sends.
        public var outbound: Channel?
        /// Overrides the gateway's retry policy for deliveries to this agency.
        public var retry: RetryPolicy?
    }

    /// How documents travel to or from an agency.
    public enum Channel: Sendable, Equatable {
        /// Files in a directory.
        case directory(path: String)
        /// HTTP POST to a URL (outbound only).
        case http(url: URL, timeout: Duration)
    }

    /// What may go from one agency to another, and on which terms.
    public struct Route: Sendable, Equatable {
        public var from: AgencyID
        public var type: ReferralType
        public var to: AgencyID
        public var legalBasis: String
        public var purpose: String
        /// The data categories the recipient may receive; everything else is removed.
        public var categories: Set<DataCategory>
        /// Whether a referral needs a consent reference to take this route.
        public var consentRequired: Bool
        /// A notice every delivery on this route carries (purpose binding, § 78 SGB X).
        public var notice: String?
    }

    /// Exponential backoff with full jitter: attempt `n` (from 1) waits a random time between 0
    /// and `min(cap, base · 2^(n-1))`; after `maxAttempts` failed attempts the delivery fails.
    public struct RetryPolicy: Sendable, Equatable {
        public var base: Duration
        public var cap: Duration
        public var maxAttempts: Int

        public static let standard = RetryPolicy(base: .seconds(30), cap: .seconds(3600), maxAttempts: 12)

        public init(base: Duration, cap: Duration, maxAttempts: Int) {
            self.base = base
            self.cap = cap
            self.maxAttempts = maxAttempts
        }
    }

    /// The route for `type` from `from` to `to`, if one exists.
    public func route(from: AgencyID, type: ReferralType, to: AgencyID) -> Route? {
        routes.first { $0.from == from && $0.type == type && $0.to == to }
    }

    /// The agency with `id`, if configured.
    public func agency(_ id: AgencyID) -> Agency? {
        agencies.first { $0.id == id }
    }

    /// The retry policy for deliveries to `recipient`.
    public func retryPolicy(for recipient: AgencyID) -> RetryPolicy {
        agency(recipient)?.retry ?? retry
    }
}

/// One thing wrong with a configuration file: where (a JSON path such as
/// `$.routes[3].categories[1]`) and what.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Every problem found in a configuration file (never only the first).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigurationProblem]

    public var description: String {
        "the configuration has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
