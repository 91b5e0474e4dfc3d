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

        /// What the store keeps of this decision to make ``referral`` again from the message.
        public var terms: Terms { Terms(route) }
    }

    /// The terms a delivery's content is made under: the route's categories and wording at the
    /// time of the decision. With the referral as received, they give the content exactly
    /// (``content(of:for:under:)``), so the store keeps them instead of a second copy of the
    /// payload (Decision 0012).
    public struct Terms: Sendable, Equatable {
        /// The data categories the recipient may receive.
        public var categories: Set<DataCategory>
        public var legalBasis: String
        public var purpose: String
        public var notice: String?

        public init(categories: Set<DataCategory>, legalBasis: String, purpose: String, notice: String?) {
            self.categories = categories
            self.legalBasis = legalBasis
            self.purpose = purpose
            self.notice = notice
        }

        public init(_ route: GatewayConfiguration.Route) {
            self.init(categories: route.categories, legalBasis: route.legalBasis, purpose: route.purpose, notice: route.notice)
        }

        /// The categories as a delivery stores them: their names, in the categories' order.
        public var categoryNames: [String] { categories.sorted().map(\.rawValue) }
    }

    /// What `recipient` receives of `referral` under `terms`: only the fields of the allowed
    /// categories, the recipient as the only one, and the route's wording, which is what
    /// travels so that every delivery states the configured basis. The one place a delivery's
    /// content is made, at the decision and whenever it is read back.
    public static func content(of referral: Referral, for recipient: AgencyID, under terms: Terms) -> (Referral, Minimisation) {
        var (delivered, minimisation) = referral.minimised(to: terms.categories)
        delivered.recipients = [recipient]
        delivered.legalBasis = terms.legalBasis
        delivered.purpose = terms.purpose
        delivered.notice = terms.notice
        return (delivered, minimisation)
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
        let (delivered, minimisation) = Self.content(of: referral, for: recipient, under: Terms(route))
        return .allowed(Allowed(recipient: recipient, route: route, referral: delivered, minimisation: minimisation))
    }
}
