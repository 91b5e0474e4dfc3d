import Foundation
import WeicheCore

extension GatewayConfiguration {
    /// The largest configuration file Weiche reads.
    public static let maximumFileSize = 1 << 20

    /// Reads and checks a configuration file's bytes.
    ///
    /// - Parameter knownAdapters: the adapter names this build has (the registry's).
    /// - Throws: ``ConfigurationError`` listing every problem with its JSON path.
    public static func load(_ bytes: [UInt8], knownAdapters: Set<String>) throws -> GatewayConfiguration {
        guard bytes.count <= maximumFileSize else {
            throw ConfigurationError(problems: [
                ConfigurationProblem(path: "$", message: "the file has \(bytes.count) bytes; at most \(maximumFileSize) are read")
            ])
        }
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw ConfigurationError(problems: [
                ConfigurationProblem(path: "$", message: "not valid JSON (\(Self.syntaxHint(error)))")
            ])
        }
        var reader = ConfigurationReader(knownAdapters: knownAdapters)
        let configuration = reader.read(document, sha256: SHA256.hash(bytes).hexString)
        guard let configuration, reader.problems.isEmpty else {
            throw ConfigurationError(problems: reader.problems)
        }
        return configuration
    }

    private static func syntaxHint(_ error: any Error) -> String {
        guard case DecodingError.dataCorrupted(let context) = error else { return "unreadable" }
        let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
        return underlying ?? context.debugDescription
    }
}

/// Walks a configuration document, collecting every problem with its path.
private struct ConfigurationReader {
    let knownAdapters: Set<String>
    var problems: [ConfigurationProblem] = []

    mutating func problem(_ path: String, _ message: String) {
        problems.append(ConfigurationProblem(path: path, message: message))
    }

    mutating func read(_ document: JSONValue, sha256: String) -> GatewayConfiguration? {
        guard let root = object(document, at: "$", allowed: ["agencies", "routes", "retry", "$comment"]) else { return nil }
        let retry = root["retry"].flatMap { retryPolicy($0, at: "$.retry") } ?? .standard
        var agencies: [GatewayConfiguration.Agency] = []
        if let list = array(root["agencies"], at: "$.agencies", required: true) {
            if list.isEmpty { problem("$.agencies", "needs at least one agency") }
            for (index, element) in list.enumerated() {
                if let agency = agency(element, at: "$.agencies[\(index)]") {
                    if agencies.contains(where: { $0.id == agency.id }) {
                        problem("$.agencies[\(index)].id", "'\(agency.id)' is configured twice")
                    } else {
                        agencies.append(agency)
                    }
                }
            }
        }
        var routes: [GatewayConfiguration.Route] = []
        for (index, element) in (array(root["routes"], at: "$.routes", required: true) ?? []).enumerated() {
            let path = "$.routes[\(index)]"
            guard let route = route(element, at: path, agencies: agencies) else { continue }
            if routes.contains(where: { $0.from == route.from && $0.type == route.type && $0.to == route.to }) {
                problem(path, "a route from \(route.from) for \(route.type) to \(route.to) is already configured")
            } else {
                routes.append(route)
            }
        }
        return GatewayConfiguration(agencies: agencies, routes: routes, retry: retry, sha256: sha256)
    }

    // MARK: - Sections

    mutating func agency(_ value: JSONValue, at path: String) -> GatewayConfiguration.Agency? {
        guard let fields = object(value, at: path, allowed: ["id", "name", "adapter", "inbound", "outbound", "retry", "$comment"]) else {
            return nil
        }
        let id = agencyID(fields["id"], at: "\(path).id")
        let name = string(fields["name"], at: "\(path).name", required: true)
        let adapter = string(fields["adapter"], at: "\(path).adapter", required: true)
        if let adapter, !knownAdapters.contains(adapter) {
            let known = knownAdapters.sorted().joined(separator: ", ")
            problem("\(path).adapter", "unknown adapter '\(adapter)'" + (known.isEmpty ? "" : " (known: \(known))"))
        }
        let inbound = fields["inbound"].flatMap { channel($0, at: "\(path).inbound", inbound: true) }
        let outbound = fields["outbound"].flatMap { channel($0, at: "\(path).outbound", inbound: false) }
        let retry = fields["retry"].flatMap { retryPolicy($0, at: "\(path).retry") }
        guard let id, let name, let adapter else { return nil }
        return GatewayConfiguration.Agency(id: id, name: name, adapter: adapter, inbound: inbound, outbound: outbound, retry: retry)
    }

    mutating func channel(_ value: JSONValue, at path: String, inbound: Bool) -> GatewayConfiguration.Channel? {
        guard let fields = object(value, at: path, allowed: ["kind", "path", "url", "timeoutSeconds", "$comment"]) else { return nil }
        switch string(fields["kind"], at: "\(path).kind", required: true) {
        case "directory":
            guard let directory = string(fields["path"], at: "\(path).path", required: true) else { return nil }
            return .directory(path: directory)
        case "http":
            if inbound {
                problem("\(path).kind", "'http' is an outbound channel only; agencies hand over files through a 'directory'")
                return nil
            }
            let timeout = number(fields["timeoutSeconds"], at: "\(path).timeoutSeconds", in: 1...300) ?? 10
            guard let text = string(fields["url"], at: "\(path).url", required: true) else { return nil }
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                problem("\(path).url", "not an http or https URL")
                return nil
            }
            return .http(url: url, timeout: .milliseconds(Int(timeout * 1000)))
        case let other?:
            problem("\(path).kind", "unknown channel kind '\(other)' (use 'directory'\(inbound ? "" : " or 'http'"))")
            return nil
        case nil:
            return nil
        }
    }

    mutating func route(_ value: JSONValue, at path: String, agencies: [GatewayConfiguration.Agency]) -> GatewayConfiguration.Route? {
        let allowed: Set<String> = ["from", "type", "to", "legalBasis", "purpose", "categories", "consentRequired", "notice", "$comment"]
        guard let fields = object(value, at: path, allowed: allowed) else { return nil }
        let from = agencyID(fields["from"], at: "\(path).from")
        let to = agencyID(fields["to"], at: "\(path).to")
        if let from, !agencies.contains(where: { $0.id == from }) {
            problem("\(path).from", "no agency '\(from)' is configured")
        }
        if let to {
            if let recipient = agencies.first(where: { $0.id == to }) {
                if recipient.outbound == nil { problem("\(path).to", "agency '\(to)' has no outbound channel to deliver to") }
            } else {
                problem("\(path).to", "no agency '\(to)' is configured")
            }
        }
        var type: ReferralType?
        if let text = string(fields["type"], at: "\(path).type", required: true) {
            type = ReferralType(text)
            if type == nil { problem("\(path).type", "'\(text)' is not \(ReferralType.requiredForm)") }
        }
        let legalBasis = string(fields["legalBasis"], at: "\(path).legalBasis", required: true)
        let purpose = string(fields["purpose"], at: "\(path).purpose", required: true)
        let notice = string(fields["notice"], at: "\(path).notice", required: false)
        let categories = categoryList(fields["categories"], at: "\(path).categories")
        var consentRequired = categories?.contains(where: \.needsConsent) ?? false
        if let explicit = fields["consentRequired"] {
            guard case .bool(let flag) = explicit else {
                problem("\(path).consentRequired", "must be true or false, not \(explicit.typeName)")
                return nil
            }
            if !flag, let sensitive = categories?.filter(\.needsConsent).sorted().first {
                problem("\(path).consentRequired", "a route that carries '\(sensitive.rawValue)' data needs a consent reference: set it to true")
            }
            consentRequired = consentRequired || flag
        }
        guard let from, let to, let type, let legalBasis, let purpose, let categories else { return nil }
        return GatewayConfiguration.Route(
            from: from, type: type, to: to, legalBasis: legalBasis, purpose: purpose, categories: categories,
            consentRequired: consentRequired, notice: notice)
    }

    mutating func retryPolicy(_ value: JSONValue, at path: String) -> GatewayConfiguration.RetryPolicy? {
        guard let fields = object(value, at: path, allowed: ["baseSeconds", "capSeconds", "maxAttempts", "$comment"]) else { return nil }
        let standard = GatewayConfiguration.RetryPolicy.standard
        let base = number(fields["baseSeconds"], at: "\(path).baseSeconds", in: 0.001...86_400)
        let cap = number(fields["capSeconds"], at: "\(path).capSeconds", in: 0.001...(7 * 86_400))
        let attempts = number(fields["maxAttempts"], at: "\(path).maxAttempts", in: 1...1000)
        if let attempts, attempts != attempts.rounded() { problem("\(path).maxAttempts", "must be a whole number") }
        let policy = GatewayConfiguration.RetryPolicy(
            base: base.map { .milliseconds(Int($0 * 1000)) } ?? standard.base,
            cap: cap.map { .milliseconds(Int($0 * 1000)) } ?? standard.cap,
            maxAttempts: attempts.map { Int($0) } ?? standard.maxAttempts)
        if policy.cap < policy.base { problem("\(path).capSeconds", "must not be smaller than baseSeconds") }
        return policy
    }

    mutating func categoryList(_ value: JSONValue?, at path: String) -> Set<DataCategory>? {
        guard let list = array(value, at: path, required: true) else { return nil }
        if list.isEmpty { problem(path, "needs at least one data category") }
        var categories: Set<DataCategory> = []
        var valid = true
        for (index, element) in list.enumerated() {
            guard case .string(let name) = element else {
                problem("\(path)[\(index)]", "must be a string, not \(element.typeName)")
                valid = false
                continue
            }
            guard let category = DataCategory(rawValue: name) else {
                let suggestion = DataCategory.allCases.map(\.rawValue).min { editDistance($0, name) < editDistance($1, name) }
                let hint = suggestion.flatMap { editDistance($0, name) <= 3 ? " (did you mean '\($0)'?)" : nil } ?? ""
                problem("\(path)[\(index)]", "unknown data category '\(name)'\(hint); known: \(DataCategory.allCases.map(\.rawValue).joined(separator: ", "))")
                valid = false
                continue
            }
            categories.insert(category)
        }
        return valid ? categories : nil
    }

    // MARK: - Values

    mutating func object(_ value: JSONValue?, at path: String, allowed: Set<String>) -> JSONObject? {
        guard case .object(let fields)? = value else {
            problem(path, value.map { "must be an object, not \($0.typeName)" } ?? "is missing")
            return nil
        }
        for key in fields.keys.sorted() where !allowed.contains(key) {
            problem("\(path).\(key)", "unknown setting (known: \(allowed.subtracting(["$comment"]).sorted().joined(separator: ", ")))")
        }
        return fields
    }

    mutating func array(_ value: JSONValue?, at path: String, required: Bool) -> [JSONValue]? {
        switch value {
        case .array(let elements)?: return elements
        case nil: if required { problem(path, "is missing") }
        case let other?: problem(path, "must be an array, not \(other.typeName)")
        }
        return nil
    }

    mutating func string(_ value: JSONValue?, at path: String, required: Bool) -> String? {
        switch value {
        case .string(let text)? where !text.isBlank: return text
        case .string?: problem(path, "must not be empty")
        case nil: if required { problem(path, "is missing") }
        case let other?: problem(path, "must be a string, not \(other.typeName)")
        }
        return nil
    }

    mutating func number(_ value: JSONValue?, at path: String, in range: ClosedRange<Double>) -> Double? {
        switch value {
        case .number(let number)? where range.contains(number): return number
        case .number?: problem(path, "must be between \(range.lowerBound.formatted) and \(range.upperBound.formatted)")
        case nil: break
        case let other?: problem(path, "must be a number, not \(other.typeName)")
        }
        return nil
    }

    mutating func agencyID(_ value: JSONValue?, at path: String) -> AgencyID? {
        guard let text = string(value, at: path, required: true) else { return nil }
        guard let id = AgencyID(text) else {
            problem(path, "'\(text)' is not \(AgencyID.requiredForm)")
            return nil
        }
        return id
    }
}

extension Double {
    fileprivate var formatted: String { self == rounded() ? String(Int(self)) : String(self) }
}

/// The Levenshtein distance, for "did you mean" hints on short names.
private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
