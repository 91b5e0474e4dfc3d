import WeicheCore

/// The names of the database roles Weiche's schema grants to (see Docs/Audit.md):
/// the gateway's role, which writes the pipeline and may only append to the audit log, and the
/// auditors' role, which reads metadata and never payloads.
public struct DatabaseRoles: Sendable, Equatable {
    public var gateway: String
    public var auditor: String

    public init(gateway: String = "weiche_gateway", auditor: String = "weiche_auditor") {
        self.gateway = gateway
        self.auditor = auditor
    }

    /// From `WEICHE_GATEWAY_ROLE` and `WEICHE_AUDITOR_ROLE`, each defaulting to its standard name.
    public static func fromEnvironment(_ environment: [String: String]) throws -> DatabaseRoles {
        var roles = DatabaseRoles()
        for (variable, keyPath) in [("WEICHE_GATEWAY_ROLE", \DatabaseRoles.gateway), ("WEICHE_AUDITOR_ROLE", \DatabaseRoles.auditor)] {
            guard let value = environment[variable], !value.isEmpty else { continue }
            guard isValidName(value) else {
                throw WeicheError(.invalidConfiguration, "\(variable) must be a role name of lowercase letters, digits and '_' (at most 63), starting with a letter")
            }
            roles[keyPath: keyPath] = value
        }
        guard roles.gateway != roles.auditor else {
            throw WeicheError(.invalidConfiguration, "the gateway's and the auditors' database roles must differ")
        }
        return roles
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.utf8.count <= 63 else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
