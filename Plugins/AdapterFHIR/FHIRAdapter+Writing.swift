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
        func reference(_ role: EntryRole) -> FHIRJSON { ["reference": .string(fullURL(role))] }

        func text(_ name: String) -> String? {
            switch referral[field: name] {
            case .text(let text)?, .day(let text)?: text
            default: nil
            }
        }

        func bundle() throws(Rejection) -> FHIRObject {
            let isResult = referral.type == FHIRVocabulary.resultType
            guard isResult || FHIRVocabulary.requestTypes.contains(referral.type) else {
                throw Rejection(field: "type", reason: "the fhir-r4 format does not carry \(referral.type)")
            }
            var entries: [(EntryRole, FHIRObject)] = [(.header, messageHeader()), (.focus, isResult ? try task() : try serviceRequest())]
            entries.append((.patient, patient()))
            if let practitioner = practitioner() { entries.append((.practitioner, practitioner)) }
            if let consent = consent() { entries.append((.consent, consent)) }
            return [
                "resourceType": "Bundle",
                "id": .string(EntryRole.bundle.id(in: id)),
                "type": "message",
                "timestamp": .string(FHIRVocabulary.instant(referral.createdAt)),
                "entry": .array(entries.map { role, resource in
                    var resource = resource
                    resource["id"] = .string(role.id(in: id))
                    return ["fullUrl": .string(fullURL(role)), "resource": .object(resource)]
                }),
            ]
        }

        func messageHeader() -> FHIRObject {
            [
                "resourceType": "MessageHeader",
                "eventCoding": ["system": .string(FHIRVocabulary.referralTypeSystem), "code": .string(referral.type.rawValue)],
                "source": ["endpoint": .string(FHIRVocabulary.endpoint(referral.sender)), "name": .string(referral.sender.rawValue)],
                "destination": .array(referral.recipients.map {
                    ["endpoint": .string(FHIRVocabulary.endpoint($0)), "name": .string($0.rawValue)]
                }),
                "focus": [reference(.focus)],
            ]
        }

        /// What the ServiceRequest and the Task share: identifiers, type, time, envelope extensions.
        func focusCommon(_ resourceType: String) -> FHIRObject {
            var resource: FHIRObject = [
                "resourceType": .string(resourceType),
                "identifier": .array(identifiers()),
                "code": ["coding": [["system": .string(FHIRVocabulary.referralTypeSystem), "code": .string(referral.type.rawValue)]]],
                "authoredOn": .string(FHIRVocabulary.instant(referral.createdAt)),
                "extension": .array(extensions()),
            ]
            if let reply = referral.inReplyTo { resource["basedOn"] = [basedOn(reply)] }
            return resource
        }

        func serviceRequest() throws(Rejection) -> FHIRObject {
            var request = focusCommon("ServiceRequest")
            request["status"] = "active"
            request["intent"] = "order"
            request["subject"] = reference(.patient)
            request["performer"] = .array(referral.recipients.map {
                ["identifier": ["system": .string(FHIRVocabulary.agencySystem), "value": .string($0.rawValue)], "display": .string($0.rawValue)]
            })
            if let reason = text("details.reason") { request["reasonCode"] = [["text": .string(reason)]] }
            if let question = text("details.question") { request["note"] = [["text": .string(question)]] }
            if let urgency = text("details.urgency") { request["priority"] = urgency == "urgent" ? "urgent" : "routine" }
            if hasPractitioner { request["requester"] = reference(.practitioner) }
            if referral.consentReference != nil { request["supportingInfo"] = [reference(.consent)] }
            return request
        }

        func task() throws(Rejection) -> FHIRObject {
            var task = focusCommon("Task")
            task["status"] = "completed"
            task["intent"] = "order"
            task["for"] = reference(.patient)
            if hasPractitioner { task["owner"] = reference(.practitioner) }
            if let diagnoses = text("details.diagnoses") { task["reasonCode"] = ["text": .string(diagnoses)] }
            var outputs: [FHIRJSON] = []
            for field in referral.fields where field.name.hasPrefix("details.") && field.name != "details.diagnoses" {
                var output: FHIRObject = ["type": ["coding": [["system": .string(FHIRVocabulary.fieldSystem), "code": .string(field.name)]]]]
                switch field.value {
                case .text(let text): output["valueString"] = .string(text)
                case .day(let day): output["valueDate"] = .string(day)
                case .integer(let number): output["valueInteger"] = .integer(number)
                case .boolean(let flag): output["valueBoolean"] = .boolean(flag)
                case .list: throw Rejection(field: field.name, reason: "a Task output cannot hold a list")
                }
                outputs.append(.object(output))
            }
            if !outputs.isEmpty { task["output"] = .array(outputs) }
            return task
        }

        func identifiers() -> [FHIRJSON] {
            var identifiers: [FHIRJSON] = [["system": .string(FHIRVocabulary.messageIDSystem), "value": .string(referral.senderMessageID)]]
            if let caseNumber = text("caseNumber") {
                identifiers.append(["system": .string(FHIRVocabulary.caseNumberSystem), "value": .string(caseNumber)])
            }
            return identifiers
        }

        func extensions() -> [FHIRJSON] {
            var extensions: [FHIRJSON] = [
                ["url": .string(FHIRVocabulary.legalBasisExtension), "valueString": .string(referral.legalBasis)],
                ["url": .string(FHIRVocabulary.purposeExtension), "valueString": .string(referral.purpose)],
            ]
            if let notice = referral.notice {
                extensions.append(["url": .string(FHIRVocabulary.noticeExtension), "valueString": .string(notice)])
            }
            return extensions
        }

        /// A reference to the answered message: by id when it is a FHIR id (a Weiche message
        /// id always is), otherwise by identifier.
        func basedOn(_ reply: String) -> FHIRJSON {
            if FHIRVocabulary.isFHIRID(reply) { return ["reference": .string("ServiceRequest/\(reply)")] }
            return ["identifier": ["system": .string(FHIRVocabulary.messageIDSystem), "value": .string(reply)]]
        }

        func patient() -> FHIRObject {
            var patient: FHIRObject = ["resourceType": "Patient"]
            var name: FHIRObject = [:]
            if let family = text("person.familyName") { name["family"] = .string(family) }
            if let given = text("person.givenName") { name["given"] = [.string(given)] }
            if !name.isEmpty { patient["name"] = [.object(name)] }
            if let birthDate = text("person.birthDate") { patient["birthDate"] = .string(birthDate) }
            if let nationality = text("person.nationality") {
                patient["extension"] = [[
                    "url": .string(FHIRVocabulary.nationalityExtension),
                    "extension": [["url": "code", "valueCodeableConcept": ["text": .string(nationality)]]],
                ]]
            }
            if let address = text("person.address") { patient["address"] = [["text": .string(address)]] }
            if let phone = text("person.phone") { patient["telecom"] = [["system": "phone", "value": .string(phone)]] }
            return patient
        }

        /// Whether the Bundle has a Practitioner (without building it).
        var hasPractitioner: Bool { ["caseworker.id", "caseworker.name", "caseworker.phone"].contains { text($0) != nil } }

        func practitioner() -> FHIRObject? {
            var practitioner: FHIRObject = [:]
            if let id = text("caseworker.id") {
                practitioner["identifier"] = [["system": .string(FHIRVocabulary.caseworkerSystem), "value": .string(id)]]
            }
            if let name = text("caseworker.name") { practitioner["name"] = [["text": .string(name)]] }
            if let phone = text("caseworker.phone") { practitioner["telecom"] = [["system": "phone", "value": .string(phone)]] }
            guard !practitioner.isEmpty else { return nil }
            practitioner["resourceType"] = "Practitioner"
            return practitioner
        }

        func consent() -> FHIRObject? {
            guard let reference = referral.consentReference else { return nil }
            return [
                "resourceType": "Consent",
                "status": "active",
                "identifier": [["system": .string(FHIRVocabulary.consentSystem), "value": .string(reference)]],
                "scope": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"]]],
                "category": [["coding": [["system": "http://loinc.org", "code": "59284-0"]]]],
                "patient": self.reference(.patient),
                "policyRule": ["text": "Einwilligung der betroffenen Person"],
            ]
        }
    }

    /// A response message: MessageHeader.response `ok`, or `fatal-error` with an
    /// OperationOutcome holding the rejection's code and reason.
    static func receiptBundle(_ receipt: Receipt) throws(Rejection) -> FHIRObject {
        guard FHIRVocabulary.isFHIRID(receipt.reference) else {
            throw Rejection(field: "reference", reason: "a FHIR response must refer to a message by a FHIR id")
        }
        // Ids derive from the referral's id (roles apart from the referral's own Bundle's), so a
        // resent receipt has the same bytes.
        let id = UUID(parsing: receipt.reference) ?? UUID()
        var response: FHIRObject = ["identifier": .string(receipt.reference), "code": "ok"]
        if let referral = receipt.referralSenderMessageID {
            response["extension"] = [["url": .string(FHIRVocabulary.referralMessageIDExtension), "valueString": .string(referral)]]
        }
        var entries: [FHIRJSON] = []
        if case .rejected(let code, let reason) = receipt.outcome {
            let outcomeID = EntryRole.receiptOutcome.id(in: id)
            response["code"] = "fatal-error"
            response["details"] = ["reference": .string("urn:uuid:\(outcomeID)")]
            entries.append([
                "fullUrl": .string("urn:uuid:\(outcomeID)"),
                "resource": [
                    "resourceType": "OperationOutcome", "id": .string(outcomeID),
                    "issue": [[
                        "severity": "error", "code": "business-rule",
                        "details": ["coding": [["system": .string(FHIRVocabulary.rejectionCodeSystem), "code": .string(code)]], "text": .string(reason)],
                    ]],
                ],
            ])
        }
        let header: FHIRObject = [
            "resourceType": "MessageHeader", "id": .string(EntryRole.receiptHeader.id(in: id)),
            "eventCoding": ["system": .string(FHIRVocabulary.receiptEvent.0), "code": .string(FHIRVocabulary.receiptEvent.1)],
            "source": ["endpoint": .string(FHIRVocabulary.endpoint(receipt.from)), "name": .string(receipt.from.rawValue)],
            "response": .object(response),
        ]
        var bundle: FHIRObject = [
            "resourceType": "Bundle", "id": .string(EntryRole.receiptBundle.id(in: id)), "type": "message",
            "timestamp": .string(FHIRVocabulary.instant(receipt.issuedAt)),
            "entry": .array([["fullUrl": .string("urn:uuid:\(EntryRole.receiptHeader.id(in: id))"), "resource": .object(header)]] + entries),
        ]
        if let messageID = receipt.senderMessageID {
            bundle["identifier"] = ["system": .string(FHIRVocabulary.messageIDSystem), "value": .string(messageID)]
        }
        return bundle
    }
}
