import Foundation
import WeicheCore

/// Decides, for each recipient of a referral, whether the configuration allows the transfer,
/// and what the recipient may see of it.
///
/// Weiche does not decide law: it checks the referral against the configured routes, refuses
/// whatever no route allows, and removes every field outside the route's data categories.
public struct Policy: Sendable {
    public let configuration: GatewayConfiguration

    public init(configuration: GatewayConfiguration) {
        self.configuration = configuration
    }

    /// The outcome for one recipient.
    public enum Decision: Sendable, Equatable {
        /// The transfer is allowed: what to deliver, on which route, and what was removed.
        case allowed(Allowed)
        /// The transfer is refused, with a reason for the sender and the audit log.
        case refused(Refusal)
    }

    public struct Allowed: Sendable, Equatable {
        public var recipient: AgencyID
        public var route: GatewayConfiguration.Route
        /// The referral stripped to the route's categories.
        public var referral: Referral
        public var minimisation: Minimisation
    }

    public struct Refusal: Sendable, Equatable, CustomStringConvertible {
        public enum Code: String, Sendable, Equatable {
            /// No route from the sender for this type to this recipient.
            case noRoute = "no-route"
            /// The route needs a consent reference and the referral has none.
            case consentMissing = "consent-missing"
            /// The referral names no recipient at all.
            case noRecipient = "no-recipient"
        }

        public var recipient: AgencyID?
        public var code: Code
        /// Says why, without personal data.
        public var reason: String

        public var description: String { reason }
    }

    /// The decision for every recipient the referral names (each evaluated on its own).
    public func evaluate(_ referral: Referral) -> [Decision] {
        guard !referral.recipients.isEmpty else {
            return [.refused(Refusal(recipient: nil, code: .noRecipient, reason: "the referral names no recipient"))]
        }
        var seen: Set<AgencyID> = []
        return referral.recipients.filter { seen.insert($0).inserted }.map { evaluate(referral, for: $0) }
    }

    /// The decision for one recipient.
    public func evaluate(_ referral: Referral, for recipient: AgencyID) -> Decision {
        guard let route = configuration.route(from: referral.sender, type: referral.type, to: recipient) else {
            return .refused(Refusal(
                recipient: recipient, code: .noRoute,
                reason: "no route allows \(referral.type) from \(referral.sender) to \(recipient)"))
        }
        if route.consentRequired && (referral.consentReference ?? "").isBlank {
            return .refused(Refusal(
                recipient: recipient, code: .consentMissing,
                reason: "the route for \(referral.type) from \(referral.sender) to \(recipient) needs a consent reference, and the referral has none"))
        }
        let (minimised, minimisation) = referral.minimised(to: route.categories)
        var delivered = minimised
        delivered.recipients = [recipient]
        // The route's wording is what travels, so that every delivery states the configured basis.
        delivered.legalBasis = route.legalBasis
        delivered.purpose = route.purpose
        delivered.notice = route.notice
        return .allowed(Allowed(recipient: recipient, route: route, referral: delivered, minimisation: minimisation))
    }
}
