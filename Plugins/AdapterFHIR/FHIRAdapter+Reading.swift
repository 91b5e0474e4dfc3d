import Foundation
import WeicheCore

extension FHIRAdapter {
    typealias Object = JSONObject

    /// Reads one FHIR document, collecting problems by FHIR path (`Patient.birthDate`).
    ///
    /// Elements Weiche does not carry are refused by name rather than dropped, so that a sender
    /// never believes it sent something that did not travel. Narrative (`text`) and `meta`
    /// are ignored: they repeat or describe the structured content.
    struct Reader {
        let agency: AgencyID
        var problems: [Rejection] = []
        /// Bundle entries by `fullUrl` and by `Type/id`; contained resources by `#id`.
        var resources: [String: Object] = [:]
        var consents: [Object] = []
        var conditions: [Object] = []

        mutating func problem(_ field: String, _ reason: String) {
            problems.append(Rejection(field: field, reason: reason))
        }

        static let ignored: Set<String> = ["resourceType", "id", "meta", "text", "language", "implicitRules"]
        static let serviceRequestElements: Set<String> = ignored.union([
            "contained", "extension", "identifier", "status", "intent", "priority", "code", "subject", "authoredOn",
            "requester", "performer", "reasonCode", "note", "supportingInfo", "basedOn",
        ])
        static let taskElements: Set<String> = ignored.union([
            "extension", "identifier", "status", "businessStatus", "intent", "code", "for", "authoredOn", "lastModified",
            "owner", "reasonCode", "output", "basedOn",
        ])
        static let patientElements: Set<String> = ignored.union(["extension", "name", "birthDate", "address", "telecom"])
        static let practitionerElements: Set<String> = ignored.union(["identifier", "name", "telecom"])
        /// Resource types a message Bundle may hold besides its MessageHeader and its focus.
        static let entryTypes: Set<String> = ["Patient", "Practitioner", "Consent", "Organization", "Condition"]

        // MARK: - Documents

        mutating func message(_ bundle: Object) -> DecodedItem? {
            guard let bundleType = string(bundle, "type", at: "Bundle.type", required: true) else { return nil }
            guard bundleType == "message" else {
                problem("Bundle.type", "only message Bundles are routed (type 'message')")
                return nil
            }
            guard case .array(let rawEntries)? = bundle["entry"], !rawEntries.isEmpty else {
                problem("Bundle.entry", "is missing or empty: a message Bundle starts with its MessageHeader")
                return nil
            }
            var entries: [(type: String, resource: Object)] = []
            for (index, raw) in rawEntries.enumerated() {
                guard case .object(let entry) = raw, case .object(let resource)? = entry["resource"],
                    case .string(let resourceType)? = resource["resourceType"]
                else {
                    problem("Bundle.entry[\(index)]", "must hold a resource with a resourceType")
                    return nil
                }
                if case .string(let url)? = entry["fullUrl"] { resources[url] = resource }
                if case .string(let id)? = resource["id"] { resources["\(resourceType)/\(id)"] = resource }
                entries.append((resourceType, resource))
            }
            guard entries[0].type == "MessageHeader" else {
                problem("Bundle.entry[0]", "must be the MessageHeader")
                return nil
            }
            let header = entries[0].resource
            if let response = header["response"] { return receipt(response, bundle: bundle) }

            let eventCodings: [JSONValue] = header["eventCoding"].map { [$0] } ?? []
            let type = referralType(eventCodings, at: "MessageHeader.eventCoding")
            let isResult = type == FHIRVocabulary.resultType
            let focusType = isResult ? "Task" : "ServiceRequest"
            for (index, entry) in entries.enumerated().dropFirst() {
                switch entry.type {
                case focusType: continue
                case "Consent": consents.append(entry.resource)
                case "Condition" where isResult: conditions.append(entry.resource)
                case "Condition" where type != nil:
                    problem("Bundle.entry[\(index)]", "Condition resources are read only in a result; put a referral's reason in ServiceRequest.reasonCode")
                case let other where Self.entryTypes.contains(other): continue
                default: problem("Bundle.entry[\(index)]", "\(Self.named(entry.type)) is not carried by Weiche")
                }
            }
            if entries.filter({ $0.type == focusType }).count > 1 {
                problem("Bundle.entry", "holds more than one \(focusType); send one referral per message")
            }
            let recipients = array(header["destination"], at: "MessageHeader.destination").enumerated().compactMap { index, destination in
                agency(endpointOf: destination, at: "MessageHeader.destination[\(index)].endpoint")
            }
            if recipients.isEmpty && problems.isEmpty {
                problem("MessageHeader.destination", "names no recipient (an endpoint \(FHIRVocabulary.agencySystem):<agency>)")
            }
            guard let type else { return nil }
            guard let focusReference = array(header["focus"], at: "MessageHeader.focus").first,
                let (resourceType, focus) = resolve(focusReference, at: "MessageHeader.focus")
            else {
                if problems.isEmpty { problem("MessageHeader.focus", "must refer to the \(focusType) in the Bundle") }
                return nil
            }
            guard resourceType == focusType else {
                problem("MessageHeader.focus", "refers to \(Self.named(resourceType)); a \(type) message focuses a \(focusType)")
                return nil
            }
            return referral(focus, resourceType: focusType, type: type, recipients: recipients, bundle: bundle).map(DecodedItem.referral)
        }

        mutating func standalone(_ request: Object) -> DecodedItem? {
            for (index, raw) in array(request["contained"], at: "ServiceRequest.contained").enumerated() {
                guard case .object(let resource) = raw, case .string(let id)? = resource["id"], case .string(let type)? = resource["resourceType"] else {
                    problem("ServiceRequest.contained[\(index)]", "must be a resource with an id")
                    continue
                }
                resources["#\(id)"] = resource
                switch type {
                case "Consent": consents.append(resource)
                case "Patient", "Practitioner": continue
                default: problem("ServiceRequest.contained[\(index)]", "\(Self.named(type)) is not carried by Weiche")
                }
            }
            let type = referralType(codings(request["code"], at: "ServiceRequest.code"), at: "ServiceRequest.code")
            if let type, type == FHIRVocabulary.resultType {
                problem("ServiceRequest.code", "a result is sent as a Task in a message Bundle, not as a ServiceRequest")
                return nil
            }
            var recipients: [AgencyID] = []
            for (index, performer) in array(request["performer"], at: "ServiceRequest.performer").enumerated() {
                guard case .object(let reference) = performer, case .object(let identifier)? = reference["identifier"],
                    identifier["system"] == .string(FHIRVocabulary.agencySystem)
                else { continue }
                guard case .string(let value)? = identifier["value"], let id = AgencyID(value) else {
                    problem("ServiceRequest.performer[\(index)].identifier.value", "must be an agency id (lowercase letters, digits, '-')")
                    continue
                }
                recipients.append(id)
            }
            if recipients.isEmpty && problems.isEmpty {
                problem("ServiceRequest.performer", "names no recipient: a standalone ServiceRequest needs a performer identifier with system \(FHIRVocabulary.agencySystem)")
            }
            guard let type, !recipients.isEmpty else { return nil }
            return referral(request, resourceType: "ServiceRequest", type: type, recipients: recipients, bundle: nil).map(DecodedItem.referral)
        }

        // MARK: - The referral

        mutating func referral(_ focus: Object, resourceType name: String, type: ReferralType, recipients: [AgencyID], bundle: Object?) -> Referral? {
            let isTask = name == "Task"
            unknownElements(of: focus, named: name, known: isTask ? Self.taskElements : Self.serviceRequestElements)
            if let named = referralType(codings(focus["code"], at: "\(name).code"), at: "\(name).code", required: false), named != type {
                problem("\(name).code", "names another referral type than the MessageHeader")
            }
            let status = string(focus, "status", at: "\(name).status", required: true)
            if let status, status != (isTask ? "completed" : "active") {
                problem("\(name).status", isTask ? "a result Task must be 'completed'" : "a referral's ServiceRequest must be 'active'")
            }
            _ = string(focus, "intent", at: "\(name).intent", required: true)

            var values: [String: FieldValue] = [:]
            var senderMessageID: String?
            for (index, raw) in array(focus["identifier"], at: "\(name).identifier").enumerated() {
                let path = "\(name).identifier[\(index)]"
                guard case .object(let identifier) = raw, let value = string(identifier, "value", at: "\(path).value", required: true) else { continue }
                switch identifier["system"] {
                case .string(FHIRVocabulary.messageIDSystem)?: senderMessageID = value
                case .string(FHIRVocabulary.caseNumberSystem)?: values["caseNumber"] = .text(value)
                default: problem(path, "has a system Weiche does not read (\(FHIRVocabulary.messageIDSystem) or \(FHIRVocabulary.caseNumberSystem))")
                }
            }
            if senderMessageID == nil, case .object(let identifier)? = bundle?["identifier"] {
                senderMessageID = string(identifier, "value", at: "Bundle.identifier.value", required: false)
            }
            if senderMessageID == nil {
                problem("\(name).identifier", "names no message id: add an identifier with system \(FHIRVocabulary.messageIDSystem)")
            }

            var extensions: [String: String] = [:]
            for (index, raw) in array(focus["extension"], at: "\(name).extension").enumerated() {
                let path = "\(name).extension[\(index)]"
                guard case .object(let ext) = raw, case .string(let url)? = ext["url"],
                    [FHIRVocabulary.legalBasisExtension, FHIRVocabulary.purposeExtension, FHIRVocabulary.noticeExtension].contains(url)
                else {
                    problem(path, "is an extension Weiche does not read (it reads legal-basis, purpose and notice)")
                    continue
                }
                extensions[url] = string(ext, "valueString", at: "\(path).valueString", required: true)
            }
            if extensions[FHIRVocabulary.legalBasisExtension] == nil {
                problem("\(name).extension", "carries no legal basis (extension \(FHIRVocabulary.legalBasisExtension))")
            }
            if extensions[FHIRVocabulary.purposeExtension] == nil {
                problem("\(name).extension", "carries no purpose (extension \(FHIRVocabulary.purposeExtension))")
            }

            var createdAt: Date?
            if let authored = string(focus, "authoredOn", at: "\(name).authoredOn", required: bundle == nil) {
                createdAt = instant(authored, at: "\(name).authoredOn")
            } else if let bundle, let stamp = string(bundle, "timestamp", at: "Bundle.timestamp", required: true) {
                createdAt = instant(stamp, at: "Bundle.timestamp")
            }

            let inReplyTo = array(focus["basedOn"], at: "\(name).basedOn").first.flatMap { answered($0, at: "\(name).basedOn[0]") }

            if let subject = focus[isTask ? "for" : "subject"] {
                readPatient(subject, at: "\(name).\(isTask ? "for" : "subject")", into: &values)
            } else {
                problem("\(name).\(isTask ? "for" : "subject")", "is missing: the referral must refer to its Patient")
            }
            if let caseworker = focus[isTask ? "owner" : "requester"] {
                readPractitioner(caseworker, at: "\(name).\(isTask ? "owner" : "requester")", into: &values)
            }
            for (index, info) in array(focus["supportingInfo"], at: "ServiceRequest.supportingInfo").enumerated() {
                guard let (infoType, _) = resolve(info, at: "ServiceRequest.supportingInfo[\(index)]") else { continue }
                if infoType != "Consent" { problem("ServiceRequest.supportingInfo[\(index)]", "refers to \(Self.named(infoType)); Weiche reads only the Consent") }
            }
            let consent = consentReference()

            if isTask {
                readResult(focus, into: &values)
            } else {
                readRequest(focus, into: &values)
            }

            guard problems.isEmpty, let senderMessageID, let createdAt, let spec = ReferralCatalogue.spec(for: type),
                let legalBasis = extensions[FHIRVocabulary.legalBasisExtension], let purpose = extensions[FHIRVocabulary.purposeExtension]
            else { return nil }
            var fields: [ReferralField] = []
            for known in spec.fields {
                guard let value = values.removeValue(forKey: known.name) else { continue }
                if case .day = known.kind, case .text(let text) = value {
                    fields.append(ReferralField(known.name, known.category, .day(text)))
                } else {
                    fields.append(ReferralField(known.name, known.category, value))
                }
            }
            for leftover in values.keys.sorted() { problem(Self.path(of: leftover, focus: name), "is not a field of \(type)") }
            let referral = Referral(
                senderMessageID: senderMessageID, type: type, sender: agency, recipients: recipients, createdAt: createdAt,
                legalBasis: legalBasis, purpose: purpose, consentReference: consent, inReplyTo: inReplyTo,
                notice: extensions[FHIRVocabulary.noticeExtension], fields: fields)
            for catalogue in ReferralCatalogue.problems(in: referral) {
                problem(catalogue.field.map { Self.path(of: $0, focus: name) } ?? name, catalogue.reason)
            }
            return problems.isEmpty ? referral : nil
        }

        mutating func readRequest(_ request: Object, into values: inout [String: FieldValue]) {
            let reasons = array(request["reasonCode"], at: "ServiceRequest.reasonCode").enumerated().compactMap { index, concept in
                conceptText(concept, at: "ServiceRequest.reasonCode[\(index)]")
            }
            if !reasons.isEmpty { values["details.reason"] = .text(reasons.joined(separator: "; ")) }
            let notes = array(request["note"], at: "ServiceRequest.note").enumerated().compactMap { index, raw -> String? in
                guard case .object(let note) = raw else { return nil }
                return string(note, "text", at: "ServiceRequest.note[\(index)].text", required: true)
            }
            if !notes.isEmpty { values["details.question"] = .text(notes.joined(separator: "\n")) }
            switch string(request, "priority", at: "ServiceRequest.priority", required: false) {
            case nil: break
            case "routine"?: values["details.urgency"] = .text("normal")
            case "urgent"?, "asap"?, "stat"?: values["details.urgency"] = .text("urgent")
            case .some: problem("ServiceRequest.priority", "must be routine, urgent, asap or stat")
            }
        }

        mutating func readResult(_ task: Object, into values: inout [String: FieldValue]) {
            var diagnoses: [String] = []
            if let concept = task["reasonCode"], let text = conceptText(concept, at: "Task.reasonCode") { diagnoses.append(text) }
            for (index, condition) in conditions.enumerated() {
                if let code = condition["code"], let text = conceptText(code, at: "Condition[\(index)].code") { diagnoses.append(text) }
            }
            if !diagnoses.isEmpty { values["details.diagnoses"] = .text(diagnoses.joined(separator: "; ")) }
            for (index, raw) in array(task["output"], at: "Task.output").enumerated() {
                let path = "Task.output[\(index)]"
                guard case .object(let output) = raw else {
                    problem(path, "must be an object")
                    continue
                }
                guard let field = codings(output["type"], at: "\(path).type")
                    .first(where: { $0["system"] == .string(FHIRVocabulary.fieldSystem) })
                    .flatMap({ string($0, "code", at: "\(path).type.coding.code", required: true) })
                else {
                    problem("\(path).type", "names no field (a coding with system \(FHIRVocabulary.fieldSystem))")
                    continue
                }
                guard field.hasPrefix("details."), field != "details.diagnoses" else {
                    problem("\(path).type", "names a field a Task output cannot carry")
                    continue
                }
                let valueKeys = output.keys.filter { $0.hasPrefix("value") }
                guard valueKeys.count == 1, let key = valueKeys.first else {
                    problem("\(path).value[x]", "an output holds exactly one value")
                    continue
                }
                switch (key, output[key]!) {
                case ("valueString", .string(let text)), ("valueCode", .string(let text)), ("valueMarkdown", .string(let text)):
                    values[field] = .text(text)
                case ("valueDate", .string(let day)): values[field] = .day(day)
                case ("valueInteger", .number(let number)) where number == number.rounded() && abs(number) < 1e15:
                    values[field] = .integer(Int(number))
                case ("valueBoolean", .bool(let flag)): values[field] = .boolean(flag)
                default: problem("\(path).\(key)", "is not a value type Weiche reads (valueString, valueCode, valueDate, valueInteger, valueBoolean)")
                }
            }
        }

        mutating func readPatient(_ reference: JSONValue, at path: String, into values: inout [String: FieldValue]) {
            guard let (type, patient) = resolve(reference, at: path) else { return }
            guard type == "Patient" else {
                problem(path, "refers to \(Self.named(type)), not a Patient")
                return
            }
            unknownElements(of: patient, named: "Patient", known: Self.patientElements)
            if case .object(let name)? = array(patient["name"], at: "Patient.name").first {
                if let family = string(name, "family", at: "Patient.name.family", required: false) { values["person.familyName"] = .text(family) }
                let given = array(name["given"], at: "Patient.name.given").compactMap { if case .string(let text) = $0 { text } else { nil } }
                if !given.isEmpty { values["person.givenName"] = .text(given.joined(separator: " ")) }
            }
            if let birthDate = string(patient, "birthDate", at: "Patient.birthDate", required: false) { values["person.birthDate"] = .day(birthDate) }
            if case .object(let address)? = array(patient["address"], at: "Patient.address").first {
                let parts = [address["text"]].compactMap { if case .string(let text)? = $0 { text } else { nil } }
                let composed = (array(address["line"], at: "Patient.address.line") + [address["postalCode"], address["city"]].compactMap { $0 })
                    .compactMap { if case .string(let text) = $0 { text } else { nil } }
                if let text = parts.first ?? (composed.isEmpty ? nil : composed.joined(separator: ", ")) { values["person.address"] = .text(text) }
            }
            if let phone = phone(patient["telecom"], at: "Patient.telecom") { values["person.phone"] = .text(phone) }
            for (index, raw) in array(patient["extension"], at: "Patient.extension").enumerated() {
                guard case .object(let ext) = raw, ext["url"] == .string(FHIRVocabulary.nationalityExtension) else {
                    problem("Patient.extension[\(index)]", "is an extension Weiche does not read (it reads patient-nationality)")
                    continue
                }
                let code = array(ext["extension"], at: "Patient.extension[\(index)].extension").compactMap { raw -> JSONValue? in
                    guard case .object(let inner) = raw, inner["url"] == .string("code") else { return nil }
                    return inner["valueCodeableConcept"]
                }.first
                if let code, let text = conceptText(code, at: "Patient.extension[\(index)].extension.valueCodeableConcept") {
                    values["person.nationality"] = .text(text)
                }
            }
        }

        mutating func readPractitioner(_ reference: JSONValue, at path: String, into values: inout [String: FieldValue]) {
            guard let (type, practitioner) = resolve(reference, at: path) else { return }
            guard type == "Practitioner" else {
                problem(path, "refers to \(Self.named(type)); Weiche reads the caseworker from a Practitioner")
                return
            }
            unknownElements(of: practitioner, named: "Practitioner", known: Self.practitionerElements)
            if case .object(let identifier)? = array(practitioner["identifier"], at: "Practitioner.identifier").first,
                let id = string(identifier, "value", at: "Practitioner.identifier.value", required: true) {
                values["caseworker.id"] = .text(id)
            }
            if case .object(let name)? = array(practitioner["name"], at: "Practitioner.name").first {
                if let text = string(name, "text", at: "Practitioner.name.text", required: false) {
                    values["caseworker.name"] = .text(text)
                } else {
                    let given = array(name["given"], at: "Practitioner.name.given").compactMap { if case .string(let text) = $0 { text } else { nil } }
                    let family = string(name, "family", at: "Practitioner.name.family", required: false)
                    let whole = (given + [family].compactMap { $0 }).joined(separator: " ")
                    if !whole.isEmpty { values["caseworker.name"] = .text(whole) }
                }
            }
            if let phone = phone(practitioner["telecom"], at: "Practitioner.telecom") { values["caseworker.phone"] = .text(phone) }
        }

        /// The consent reference: the identifier of the message's one Consent.
        mutating func consentReference() -> String? {
            guard !consents.isEmpty else { return nil }
            guard consents.count == 1 else {
                problem("Consent", "the message holds more than one Consent")
                return nil
            }
            let identifiers = array(consents[0]["identifier"], at: "Consent.identifier").compactMap { raw -> Object? in
                if case .object(let identifier) = raw { identifier } else { nil }
            }
            let chosen = identifiers.first { $0["system"] == .string(FHIRVocabulary.consentSystem) } ?? identifiers.first
            guard let chosen, let value = string(chosen, "value", at: "Consent.identifier.value", required: true) else {
                if problems.isEmpty { problem("Consent.identifier", "is missing: the Consent must carry the consent reference") }
                return nil
            }
            return value
        }

        // MARK: - Receipts

        mutating func receipt(_ value: JSONValue, bundle: Object) -> DecodedItem? {
            guard case .object(let response) = value else {
                problem("MessageHeader.response", "must be an object")
                return nil
            }
            let reference = string(response, "identifier", at: "MessageHeader.response.identifier", required: true)
            let code = string(response, "code", at: "MessageHeader.response.code", required: true)
            let issuedAt = string(bundle, "timestamp", at: "Bundle.timestamp", required: true).flatMap { instant($0, at: "Bundle.timestamp") }
            var messageID: String?
            if case .object(let identifier)? = bundle["identifier"] {
                messageID = string(identifier, "value", at: "Bundle.identifier.value", required: false)
            }
            var outcome: Receipt.Outcome?
            switch code {
            case "ok"?: outcome = .accepted
            case "fatal-error"?, "transient-error"?:
                var issue: Object = [:]
                if let details = response["details"], let (type, resource) = resolve(details, at: "MessageHeader.response.details") {
                    if type == "OperationOutcome", case .object(let first)? = array(resource["issue"], at: "OperationOutcome.issue").first {
                        issue = first
                    } else {
                        problem("MessageHeader.response.details", "must refer to an OperationOutcome with an issue")
                    }
                }
                let detail = issue["details"].flatMap { value -> Object? in if case .object(let object) = value { object } else { nil } } ?? [:]
                let issueCode = codings(issue["details"], at: "OperationOutcome.issue.details")
                    .compactMap { if case .string(let code)? = $0["code"] { code } else { nil } }.first
                    ?? { if case .string(let code)? = issue["code"] { code } else { nil } }() ?? code!
                let reason = string(detail, "text", at: "OperationOutcome.issue.details.text", required: false)
                    ?? string(issue, "diagnostics", at: "OperationOutcome.issue.diagnostics", required: false)
                if let reason {
                    outcome = .rejected(code: issueCode, reason: reason)
                } else if problems.isEmpty {
                    problem("OperationOutcome.issue.details.text", "a rejection needs a reason (an OperationOutcome issue with details.text)")
                }
            case .some: problem("MessageHeader.response.code", "must be ok, transient-error or fatal-error")
            case nil: break
            }
            guard problems.isEmpty, let reference, let issuedAt, let outcome else { return nil }
            var referralMessageID: String?
            for raw in array(response["extension"], at: "MessageHeader.response.extension") {
                guard case .object(let ext) = raw, ext["url"] == .string(FHIRVocabulary.referralMessageIDExtension) else { continue }
                referralMessageID = string(ext, "valueString", at: "MessageHeader.response.extension.valueString", required: true)
            }
            return .receipt(Receipt(
                reference: reference, from: agency, senderMessageID: messageID, outcome: outcome, issuedAt: issuedAt,
                referralSenderMessageID: referralMessageID))
        }

        // MARK: - Values

        mutating func string(_ object: Object, _ key: String, at path: String, required: Bool) -> String? {
            switch object[key] {
            case .string(let text)? where !text.isBlank: return text
            case .string?: problem(path, "must not be empty")
            case nil, .null?: if required { problem(path, "is missing") }
            case let other?: problem(path, "must be a string, not \(other.typeName)")
            }
            return nil
        }

        mutating func array(_ value: JSONValue?, at path: String) -> [JSONValue] {
            switch value {
            case nil, .null?: return []
            case .array(let elements)?: return elements
            case let other?:
                problem(path, "must be an array, not \(other.typeName)")
                return []
            }
        }

        mutating func codings(_ concept: JSONValue?, at path: String) -> [Object] {
            guard let concept else { return [] }
            guard case .object(let object) = concept else {
                problem(path, "must be a CodeableConcept object, not \(concept.typeName)")
                return []
            }
            return array(object["coding"], at: "\(path).coding").compactMap { if case .object(let coding) = $0 { coding } else { nil } }
        }

        /// A CodeableConcept in words: its text, or its codings' displays or codes.
        mutating func conceptText(_ concept: JSONValue, at path: String) -> String? {
            guard case .object(let object) = concept else {
                problem(path, "must be a CodeableConcept object, not \(concept.typeName)")
                return nil
            }
            if case .string(let text)? = object["text"], !text.isEmpty { return text }
            let words = codings(concept, at: path).compactMap { coding -> String? in
                if case .string(let display)? = coding["display"] { return display }
                if case .string(let code)? = coding["code"] { return code }
                return nil
            }
            return words.isEmpty ? nil : words.joined(separator: "; ")
        }

        /// The referral type a coding with system `urn:weiche:referral-type` names.
        mutating func referralType(_ codings: [JSONValue], at path: String, required: Bool = true) -> ReferralType? {
            let objects = codings.compactMap { if case .object(let coding) = $0 { coding } else { nil } }
            return referralType(objects, at: path, required: required)
        }

        mutating func referralType(_ codings: [Object], at path: String, required: Bool = true) -> ReferralType? {
            guard let coding = codings.first(where: { $0["system"] == .string(FHIRVocabulary.referralTypeSystem) }) else {
                if required { problem(path, "names no referral type (a coding with system \(FHIRVocabulary.referralTypeSystem))") }
                return nil
            }
            guard let code = string(coding, "code", at: "\(path).code", required: true) else { return nil }
            guard let type = ReferralType(code), FHIRVocabulary.requestTypes.contains(type) || type == FHIRVocabulary.resultType else {
                problem("\(path).code", "is not a referral type the fhir-r4 format carries")
                return nil
            }
            return type
        }

        mutating func agency(endpointOf destination: JSONValue, at path: String) -> AgencyID? {
            guard case .object(let object) = destination, let endpoint = string(object, "endpoint", at: path, required: true) else { return nil }
            guard let agency = FHIRVocabulary.agency(fromEndpoint: endpoint) else {
                problem(path, "must be \(FHIRVocabulary.agencySystem):<agency id>")
                return nil
            }
            return agency
        }

        /// The message a `basedOn` answers: `ServiceRequest/<id>`, `urn:uuid:<id>`, or an identifier.
        mutating func answered(_ reference: JSONValue, at path: String) -> String? {
            guard case .object(let object) = reference else {
                problem(path, "must be a Reference object")
                return nil
            }
            if case .string(let target)? = object["reference"] {
                for prefix in ["ServiceRequest/", "urn:uuid:"] where target.hasPrefix(prefix) && target.count > prefix.count {
                    return String(target.dropFirst(prefix.count))
                }
                problem("\(path).reference", "must be ServiceRequest/<id> or urn:uuid:<id>")
                return nil
            }
            if case .object(let identifier)? = object["identifier"] {
                return string(identifier, "value", at: "\(path).identifier.value", required: true)
            }
            problem(path, "names neither a reference nor an identifier")
            return nil
        }

        /// Finds the resource a Reference points to: `#id` in contained, else a Bundle entry by
        /// fullUrl or `Type/id`.
        mutating func resolve(_ reference: JSONValue, at path: String) -> (String, Object)? {
            guard case .object(let object) = reference, case .string(let target)? = object["reference"] else {
                problem(path, "must be a Reference with a reference")
                return nil
            }
            guard let resource = resources[target], case .string(let type)? = resource["resourceType"] else {
                problem(path, "refers to a resource that is not in the document (a Bundle must hold it, a standalone ServiceRequest must contain it)")
                return nil
            }
            return (type, resource)
        }

        mutating func phone(_ value: JSONValue?, at path: String) -> String? {
            for raw in array(value, at: path) {
                guard case .object(let point) = raw, point["system"] == .string("phone") || point["system"] == nil else { continue }
                if let number = string(point, "value", at: "\(path).value", required: true) { return number }
            }
            return nil
        }

        mutating func instant(_ text: String, at path: String) -> Date? {
            guard let date = FHIRVocabulary.parseInstant(text) else {
                problem(path, "must be a full date and time with an offset, e.g. 2026-01-05T09:00:00+01:00")
                return nil
            }
            return date
        }

        mutating func unknownElements(of resource: Object, named name: String, known: Set<String>) {
            for key in resource.keys.sorted() where !known.contains(key) && !key.hasPrefix("_") {
                problem("\(name).\(key)", "is not carried by Weiche; remove it or ask for it to be mapped")
            }
        }

        static func named(_ resourceType: String) -> String {
            FHIRVocabulary.isResourceTypeName(resourceType) ? "a \(resourceType) resource" : "a resource"
        }

        /// Where a canonical field lives in FHIR, for rejections.
        static func path(of field: String, focus: String) -> String {
            switch field {
            case "person.familyName": "Patient.name.family"
            case "person.givenName": "Patient.name.given"
            case "person.birthDate": "Patient.birthDate"
            case "person.nationality": "Patient.extension(patient-nationality)"
            case "person.address": "Patient.address"
            case "person.phone": "Patient.telecom"
            case "caseNumber": "\(focus).identifier(case-number)"
            case "caseworker.id": "Practitioner.identifier"
            case "caseworker.name": "Practitioner.name"
            case "caseworker.phone": "Practitioner.telecom"
            case "details.reason": "ServiceRequest.reasonCode"
            case "details.question": "ServiceRequest.note"
            case "details.urgency": "ServiceRequest.priority"
            case "details.diagnoses": "Task.reasonCode"
            default: "Task.output(\(field))"
            }
        }
    }
}
