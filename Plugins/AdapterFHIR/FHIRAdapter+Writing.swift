import Foundation
import WeicheCore

extension FHIRAdapter {
    /// Builds the message Bundle of a referral: MessageHeader first, then the focus resource
    /// (a ServiceRequest for a request, a Task for a result), the Patient, the caseworker's
    /// Practitioner and the Consent, each present only when the referral has data for it.
    struct Writer {
        let referral: Referral
        let id: UUID

        func fullURL(_ role: EntryRole) -> String { "urn:uuid:\(role.id(in: id))" }
        func reference(_ role: EntryRole) -> [String: Any] { ["reference": fullURL(role)] }

        func text(_ name: String) -> String? {
            switch referral[field: name] {
            case .text(let text)?, .day(let text)?: text
            default: nil
            }
        }

        func bundle() throws(Rejection) -> [String: Any] {
            let isResult = referral.type == FHIRVocabulary.resultType
            guard isResult || FHIRVocabulary.requestTypes.contains(referral.type) else {
                throw Rejection(field: "type", reason: "the fhir-r4 format does not carry \(referral.type)")
            }
            var entries: [(EntryRole, [String: Any])] = [(.header, messageHeader()), (.focus, isResult ? try task() : try serviceRequest())]
            entries.append((.patient, patient()))
            if let practitioner = practitioner() { entries.append((.practitioner, practitioner)) }
            if let consent = consent() { entries.append((.consent, consent)) }
            return [
                "resourceType": "Bundle",
                "id": EntryRole.bundle.id(in: id),
                "type": "message",
                "timestamp": FHIRVocabulary.instant(referral.createdAt),
                "entry": entries.map { role, resource in
                    var resource = resource
                    resource["id"] = role.id(in: id)
                    return ["fullUrl": fullURL(role), "resource": resource]
                },
            ]
        }

        func messageHeader() -> [String: Any] {
            [
                "resourceType": "MessageHeader",
                "eventCoding": ["system": FHIRVocabulary.referralTypeSystem, "code": referral.type.rawValue],
                "source": ["endpoint": FHIRVocabulary.endpoint(referral.sender), "name": referral.sender.rawValue],
                "destination": referral.recipients.map { ["endpoint": FHIRVocabulary.endpoint($0), "name": $0.rawValue] },
                "focus": [reference(.focus)],
            ]
        }

        /// What the ServiceRequest and the Task share: identifiers, type, time, envelope extensions.
        func focusCommon(_ resourceType: String) -> [String: Any] {
            var resource: [String: Any] = [
                "resourceType": resourceType,
                "identifier": identifiers(),
                "code": ["coding": [["system": FHIRVocabulary.referralTypeSystem, "code": referral.type.rawValue]]],
                "authoredOn": FHIRVocabulary.instant(referral.createdAt),
                "extension": extensions(),
            ]
            if let reply = referral.inReplyTo { resource["basedOn"] = [basedOn(reply)] }
            return resource
        }

        func serviceRequest() throws(Rejection) -> [String: Any] {
            var request = focusCommon("ServiceRequest")
            request["status"] = "active"
            request["intent"] = "order"
            request["subject"] = reference(.patient)
            request["performer"] = referral.recipients.map {
                ["identifier": ["system": FHIRVocabulary.agencySystem, "value": $0.rawValue], "display": $0.rawValue] as [String: Any]
            }
            if let reason = text("details.reason") { request["reasonCode"] = [["text": reason]] }
            if let question = text("details.question") { request["note"] = [["text": question]] }
            if let urgency = text("details.urgency") { request["priority"] = urgency == "urgent" ? "urgent" : "routine" }
            if practitioner() != nil { request["requester"] = reference(.practitioner) }
            if referral.consentReference != nil { request["supportingInfo"] = [reference(.consent)] }
            return request
        }

        func task() throws(Rejection) -> [String: Any] {
            var task = focusCommon("Task")
            task["status"] = "completed"
            task["intent"] = "order"
            task["for"] = reference(.patient)
            if practitioner() != nil { task["owner"] = reference(.practitioner) }
            if let diagnoses = text("details.diagnoses") { task["reasonCode"] = ["text": diagnoses] }
            var outputs: [[String: Any]] = []
            for field in referral.fields where field.name.hasPrefix("details.") && field.name != "details.diagnoses" {
                var output: [String: Any] = ["type": ["coding": [["system": FHIRVocabulary.fieldSystem, "code": field.name]]]]
                switch field.value {
                case .text(let text): output["valueString"] = text
                case .day(let day): output["valueDate"] = day
                case .integer(let number): output["valueInteger"] = number
                case .boolean(let flag): output["valueBoolean"] = flag
                case .list: throw Rejection(field: field.name, reason: "a Task output cannot hold a list")
                }
                outputs.append(output)
            }
            if !outputs.isEmpty { task["output"] = outputs }
            return task
        }

        func identifiers() -> [[String: Any]] {
            var identifiers: [[String: Any]] = [["system": FHIRVocabulary.messageIDSystem, "value": referral.senderMessageID]]
            if let caseNumber = text("caseNumber") { identifiers.append(["system": FHIRVocabulary.caseNumberSystem, "value": caseNumber]) }
            return identifiers
        }

        func extensions() -> [[String: Any]] {
            var extensions: [[String: Any]] = [
                ["url": FHIRVocabulary.legalBasisExtension, "valueString": referral.legalBasis],
                ["url": FHIRVocabulary.purposeExtension, "valueString": referral.purpose],
            ]
            if let notice = referral.notice { extensions.append(["url": FHIRVocabulary.noticeExtension, "valueString": notice]) }
            return extensions
        }

        /// A reference to the answered message: by id when it is a FHIR id (a Weiche message
        /// id always is), otherwise by identifier.
        func basedOn(_ reply: String) -> [String: Any] {
            if FHIRVocabulary.isFHIRID(reply) { return ["reference": "ServiceRequest/\(reply)"] }
            return ["identifier": ["system": FHIRVocabulary.messageIDSystem, "value": reply]]
        }

        func patient() -> [String: Any] {
            var patient: [String: Any] = ["resourceType": "Patient"]
            var name: [String: Any] = [:]
            if let family = text("person.familyName") { name["family"] = family }
            if let given = text("person.givenName") { name["given"] = [given] }
            if !name.isEmpty { patient["name"] = [name] }
            if let birthDate = text("person.birthDate") { patient["birthDate"] = birthDate }
            if let nationality = text("person.nationality") {
                patient["extension"] = [[
                    "url": FHIRVocabulary.nationalityExtension,
                    "extension": [["url": "code", "valueCodeableConcept": ["text": nationality]]],
                ]]
            }
            if let address = text("person.address") { patient["address"] = [["text": address]] }
            if let phone = text("person.phone") { patient["telecom"] = [["system": "phone", "value": phone]] }
            return patient
        }

        func practitioner() -> [String: Any]? {
            var practitioner: [String: Any] = [:]
            if let id = text("caseworker.id") { practitioner["identifier"] = [["system": FHIRVocabulary.caseworkerSystem, "value": id]] }
            if let name = text("caseworker.name") { practitioner["name"] = [["text": name]] }
            if let phone = text("caseworker.phone") { practitioner["telecom"] = [["system": "phone", "value": phone]] }
            guard !practitioner.isEmpty else { return nil }
            practitioner["resourceType"] = "Practitioner"
            return practitioner
        }

        func consent() -> [String: Any]? {
            guard let reference = referral.consentReference else { return nil }
            return [
                "resourceType": "Consent",
                "status": "active",
                "identifier": [["system": FHIRVocabulary.consentSystem, "value": reference]],
                "scope": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"]]],
                "category": [["coding": [["system": "http://loinc.org", "code": "59284-0"]]]],
                "patient": self.reference(.patient),
                "policyRule": ["text": "Einwilligung der betroffenen Person"],
            ]
        }
    }

    /// A response message: MessageHeader.response `ok`, or `fatal-error` with an
    /// OperationOutcome holding the rejection's code and reason.
    static func receiptBundle(_ receipt: Receipt) throws(Rejection) -> [String: Any] {
        guard FHIRVocabulary.isFHIRID(receipt.reference) else {
            throw Rejection(field: "reference", reason: "a FHIR response must refer to a message by a FHIR id")
        }
        // Ids derive from the referral's id (roles apart from the referral's own Bundle's), so a
        // resent receipt has the same bytes.
        let id = UUID(uuidString: receipt.reference) ?? UUID()
        var response: [String: Any] = ["identifier": receipt.reference, "code": "ok"]
        if let referral = receipt.referralSenderMessageID {
            response["extension"] = [["url": FHIRVocabulary.referralMessageIDExtension, "valueString": referral]]
        }
        var entries: [[String: Any]] = []
        if case .rejected(let code, let reason) = receipt.outcome {
            response["code"] = "fatal-error"
            response["details"] = ["reference": "urn:uuid:\(EntryRole.receiptOutcome.id(in: id))"]
            entries.append([
                "fullUrl": "urn:uuid:\(EntryRole.receiptOutcome.id(in: id))",
                "resource": [
                    "resourceType": "OperationOutcome", "id": EntryRole.receiptOutcome.id(in: id),
                    "issue": [[
                        "severity": "error", "code": "business-rule",
                        "details": ["coding": [["system": FHIRVocabulary.rejectionCodeSystem, "code": code]], "text": reason],
                    ] as [String: Any]],
                ] as [String: Any],
            ])
        }
        let header: [String: Any] = [
            "resourceType": "MessageHeader", "id": EntryRole.receiptHeader.id(in: id),
            "eventCoding": ["system": FHIRVocabulary.receiptEvent.0, "code": FHIRVocabulary.receiptEvent.1],
            "source": ["endpoint": FHIRVocabulary.endpoint(receipt.from), "name": receipt.from.rawValue],
            "response": response,
        ]
        var bundle: [String: Any] = [
            "resourceType": "Bundle", "id": EntryRole.receiptBundle.id(in: id), "type": "message",
            "timestamp": FHIRVocabulary.instant(receipt.issuedAt),
            "entry": [["fullUrl": "urn:uuid:\(EntryRole.receiptHeader.id(in: id))", "resource": header]] + entries,
        ]
        if let messageID = receipt.senderMessageID {
            bundle["identifier"] = ["system": FHIRVocabulary.messageIDSystem, "value": messageID]
        }
        return bundle
    }
}
