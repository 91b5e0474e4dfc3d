import Foundation
import WeicheCore

extension FHIRAdapter {
    /// Writes the message Bundle of a referral: MessageHeader first, then the focus resource
    /// (a ServiceRequest for a request, a Task for a result), the Patient, the caseworker's
    /// Practitioner and the Consent, each present only when the referral has data for it.
    ///
    /// Every object's members are written in ``FHIRJSONWriter``'s order: `resourceType`, `id`,
    /// then by name.
    struct Writer {
        let referral: Referral
        let id: UUID

        func fullURL(_ role: EntryRole) -> String { "urn:uuid:" + role.id(in: id) }

        func text(_ name: String) -> String? {
            switch referral[field: name] {
            case .text(let text)?, .day(let text)?: text
            default: nil
            }
        }

        func bundle() throws(Rejection) -> [UInt8] {
            let isResult = referral.type == FHIRVocabulary.resultType
            guard isResult || FHIRVocabulary.requestTypes.contains(referral.type) else {
                throw Rejection(field: "type", reason: "the fhir-r4 format does not carry \(referral.type)")
            }
            if isResult, let list = referral.fields.first(where: { isOutput($0) && $0.value.isList }) {
                throw Rejection(field: list.name, reason: "a Task output cannot hold a list")
            }
            let caseworker = Caseworker(id: text("caseworker.id"), name: text("caseworker.name"), phone: text("caseworker.phone"))
            var json = FHIRJSONWriter()
            json.object { json in
                json.member("resourceType", "Bundle")
                json.member("id", EntryRole.bundle.id(in: id))
                json.member("entry", array: { json in
                    entry(.header, into: &json, messageHeader)
                    entry(.focus, into: &json) { json in
                        if isResult { task(caseworker, into: &json) } else { serviceRequest(caseworker, into: &json) }
                    }
                    entry(.patient, into: &json, patient)
                    if !caseworker.isEmpty { entry(.practitioner, into: &json) { practitioner(caseworker, into: &$0) } }
                    if let consentReference = referral.consentReference { entry(.consent, into: &json) { consent(consentReference, into: &$0) } }
                })
                json.member("timestamp", FHIRVocabulary.instant(referral.createdAt))
                json.member("type", "message")
            }
            return json.document()
        }

        /// `{fullUrl, resource}` for the resource `body` writes after its `resourceType`.
        func entry(_ role: EntryRole, into json: inout FHIRJSONWriter, _ body: (inout FHIRJSONWriter) -> Void) {
            json.element { json in
                json.member("fullUrl", fullURL(role))
                json.member("resource", object: body)
            }
        }

        func messageHeader(into json: inout FHIRJSONWriter) {
            json.member("resourceType", "MessageHeader")
            json.member("id", EntryRole.header.id(in: id))
            json.member("destination", array: { json in
                for recipient in referral.recipients {
                    json.element { json in
                        json.member("endpoint", FHIRVocabulary.endpoint(recipient))
                        json.member("name", recipient.rawValue)
                    }
                }
            })
            json.member("eventCoding", object: coding(FHIRVocabulary.referralTypeSystem, referral.type.rawValue))
            json.member("focus", arrayOfOne: reference(.focus))
            json.member("source", object: { json in
                json.member("endpoint", FHIRVocabulary.endpoint(referral.sender))
                json.member("name", referral.sender.rawValue)
            })
        }

        func serviceRequest(_ caseworker: Caseworker, into json: inout FHIRJSONWriter) {
            json.member("resourceType", "ServiceRequest")
            json.member("id", EntryRole.focus.id(in: id))
            focusCommonUpToExtension(into: &json)
            identifiers(into: &json)
            json.member("intent", "order")
            if let question = text("details.question") { json.member("note", arrayOfOne: { $0.member("text", question) }) }
            json.member("performer", array: { json in
                for recipient in referral.recipients {
                    json.element { json in
                        json.member("display", recipient.rawValue)
                        json.member("identifier", object: { json in
                            json.member("system", FHIRVocabulary.agencySystem)
                            json.member("value", recipient.rawValue)
                        })
                    }
                }
            })
            if let urgency = text("details.urgency") { json.member("priority", urgency == "urgent" ? "urgent" : "routine") }
            if let reason = text("details.reason") { json.member("reasonCode", arrayOfOne: { $0.member("text", reason) }) }
            if !caseworker.isEmpty { json.member("requester", object: reference(.practitioner)) }
            json.member("status", "active")
            json.member("subject", object: reference(.patient))
            if referral.consentReference != nil { json.member("supportingInfo", arrayOfOne: reference(.consent)) }
        }

        func task(_ caseworker: Caseworker, into json: inout FHIRJSONWriter) {
            json.member("resourceType", "Task")
            json.member("id", EntryRole.focus.id(in: id))
            focusCommonUpToExtension(into: &json)
            json.member("for", object: reference(.patient))
            identifiers(into: &json)
            json.member("intent", "order")
            let outputs = referral.fields.filter(isOutput)
            if !outputs.isEmpty {
                json.member("output", array: { json in
                    for field in outputs {
                        json.element { json in
                            json.member("type", object: { json in
                                json.member("coding", arrayOfOne: coding(FHIRVocabulary.fieldSystem, field.name))
                            })
                            switch field.value {
                            case .text(let text): json.member("valueString", text)
                            case .day(let day): json.member("valueDate", day)
                            case .integer(let number): json.member("valueInteger", number)
                            case .boolean(let flag): json.member("valueBoolean", flag)
                            case .list: preconditionFailure("lists are refused before writing")
                            }
                        }
                    }
                })
            }
            if !caseworker.isEmpty { json.member("owner", object: reference(.practitioner)) }
            if let diagnoses = text("details.diagnoses") { json.member("reasonCode", object: { $0.member("text", diagnoses) }) }
            json.member("status", "completed")
        }

        /// A result's details other than its diagnoses become the Task's outputs.
        func isOutput(_ field: ReferralField) -> Bool {
            field.name.hasPrefix("details.") && field.name != "details.diagnoses"
        }

        /// What the ServiceRequest and the Task share and write first: time, the answered
        /// message, type and envelope extensions.
        func focusCommonUpToExtension(into json: inout FHIRJSONWriter) {
            json.member("authoredOn", FHIRVocabulary.instant(referral.createdAt))
            if let reply = referral.inReplyTo { json.member("basedOn", arrayOfOne: basedOn(reply)) }
            json.member("code", object: { json in
                json.member("coding", arrayOfOne: coding(FHIRVocabulary.referralTypeSystem, referral.type.rawValue))
            })
            json.member("extension", array: { json in
                extensionElement(FHIRVocabulary.legalBasisExtension, referral.legalBasis, into: &json)
                extensionElement(FHIRVocabulary.purposeExtension, referral.purpose, into: &json)
                if let notice = referral.notice { extensionElement(FHIRVocabulary.noticeExtension, notice, into: &json) }
            })
        }

        func identifiers(into json: inout FHIRJSONWriter) {
            json.member("identifier", array: { json in
                json.element(object: identifier(FHIRVocabulary.messageIDSystem, referral.senderMessageID))
                if let caseNumber = text("caseNumber") { json.element(object: identifier(FHIRVocabulary.caseNumberSystem, caseNumber)) }
            })
        }

        /// A reference to the answered message: by id when it is a FHIR id (a Weiche message
        /// id always is), otherwise by identifier.
        func basedOn(_ reply: String) -> (inout FHIRJSONWriter) -> Void {
            if FHIRVocabulary.isFHIRID(reply) { return { $0.member("reference", "ServiceRequest/" + reply) } }
            return { $0.member("identifier", object: identifier(FHIRVocabulary.messageIDSystem, reply)) }
        }

        func patient(into json: inout FHIRJSONWriter) {
            json.member("resourceType", "Patient")
            json.member("id", EntryRole.patient.id(in: id))
            if let address = text("person.address") { json.member("address", arrayOfOne: { $0.member("text", address) }) }
            if let birthDate = text("person.birthDate") { json.member("birthDate", birthDate) }
            if let nationality = text("person.nationality") {
                json.member("extension", arrayOfOne: { json in
                    json.member("extension", arrayOfOne: { json in
                        json.member("url", "code")
                        json.member("valueCodeableConcept", object: { $0.member("text", nationality) })
                    })
                    json.member("url", FHIRVocabulary.nationalityExtension)
                })
            }
            let family = text("person.familyName"), given = text("person.givenName")
            if family != nil || given != nil {
                json.member("name", arrayOfOne: { json in
                    if let family { json.member("family", family) }
                    if let given { json.member("given", array: { $0.element(given) }) }
                })
            }
            if let phone = text("person.phone") { json.member("telecom", arrayOfOne: phoneNumber(phone)) }
        }

        /// The caseworker fields a Practitioner is written from; none, and there is no Practitioner.
        struct Caseworker {
            let id: String?, name: String?, phone: String?
            var isEmpty: Bool { id == nil && name == nil && phone == nil }
        }

        func practitioner(_ caseworker: Caseworker, into json: inout FHIRJSONWriter) {
            json.member("resourceType", "Practitioner")
            json.member("id", EntryRole.practitioner.id(in: id))
            if let id = caseworker.id { json.member("identifier", arrayOfOne: identifier(FHIRVocabulary.caseworkerSystem, id)) }
            if let name = caseworker.name { json.member("name", arrayOfOne: { $0.member("text", name) }) }
            if let phone = caseworker.phone { json.member("telecom", arrayOfOne: phoneNumber(phone)) }
        }

        func consent(_ consentReference: String, into json: inout FHIRJSONWriter) {
            json.member("resourceType", "Consent")
            json.member("id", EntryRole.consent.id(in: id))
            json.member("category", arrayOfOne: { $0.member("coding", arrayOfOne: coding("http://loinc.org", "59284-0")) })
            json.member("identifier", arrayOfOne: identifier(FHIRVocabulary.consentSystem, consentReference))
            json.member("patient", object: reference(.patient))
            json.member("policyRule", object: { $0.member("text", "Einwilligung der betroffenen Person") })
            json.member("scope", object: { json in
                json.member("coding", arrayOfOne: coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy"))
            })
            json.member("status", "active")
        }

        func reference(_ role: EntryRole) -> (inout FHIRJSONWriter) -> Void {
            let url = fullURL(role)
            return { $0.member("reference", url) }
        }
    }

    /// A response message: MessageHeader.response `ok`, or `fatal-error` with an
    /// OperationOutcome holding the rejection's code and reason.
    static func receiptBundle(_ receipt: Receipt) throws(Rejection) -> [UInt8] {
        guard FHIRVocabulary.isFHIRID(receipt.reference) else {
            throw Rejection(field: "reference", reason: "a FHIR response must refer to a message by a FHIR id")
        }
        // Ids derive from the referral's id (roles apart from the referral's own Bundle's), so a
        // resent receipt has the same bytes.
        let id = UUID(parsing: receipt.reference) ?? UUID()
        let headerID = EntryRole.receiptHeader.id(in: id), outcomeID = EntryRole.receiptOutcome.id(in: id)
        let rejection: (code: String, reason: String)? = if case .rejected(let code, let reason) = receipt.outcome { (code, reason) } else { nil }
        var json = FHIRJSONWriter()
        json.object { json in
            json.member("resourceType", "Bundle")
            json.member("id", EntryRole.receiptBundle.id(in: id))
            json.member("entry", array: { json in
                json.element { json in
                    json.member("fullUrl", "urn:uuid:" + headerID)
                    json.member("resource", object: { json in
                        json.member("resourceType", "MessageHeader")
                        json.member("id", headerID)
                        json.member("eventCoding", object: coding(FHIRVocabulary.receiptEvent.0, FHIRVocabulary.receiptEvent.1))
                        json.member("response", object: { json in
                            json.member("code", rejection == nil ? "ok" : "fatal-error")
                            if rejection != nil { json.member("details", object: { $0.member("reference", "urn:uuid:" + outcomeID) }) }
                            if let referral = receipt.referralSenderMessageID {
                                json.member("extension", arrayOfOne: { json in
                                    json.member("url", FHIRVocabulary.referralMessageIDExtension)
                                    json.member("valueString", referral)
                                })
                            }
                            json.member("identifier", receipt.reference)
                        })
                        json.member("source", object: { json in
                            json.member("endpoint", FHIRVocabulary.endpoint(receipt.from))
                            json.member("name", receipt.from.rawValue)
                        })
                    })
                }
                if let rejection {
                    json.element { json in
                        json.member("fullUrl", "urn:uuid:" + outcomeID)
                        json.member("resource", object: { json in
                            json.member("resourceType", "OperationOutcome")
                            json.member("id", outcomeID)
                            json.member("issue", arrayOfOne: { json in
                                json.member("code", "business-rule")
                                json.member("details", object: { json in
                                    json.member("coding", arrayOfOne: coding(FHIRVocabulary.rejectionCodeSystem, rejection.code))
                                    json.member("text", rejection.reason)
                                })
                                json.member("severity", "error")
                            })
                        })
                    }
                }
            })
            if let messageID = receipt.senderMessageID { json.member("identifier", object: identifier(FHIRVocabulary.messageIDSystem, messageID)) }
            json.member("timestamp", FHIRVocabulary.instant(receipt.issuedAt))
            json.member("type", "message")
        }
        return json.document()
    }

    // MARK: - Small shapes

    /// `{code, system}`, a Coding.
    static func coding(_ system: String, _ code: String) -> (inout FHIRJSONWriter) -> Void {
        { json in
            json.member("code", code)
            json.member("system", system)
        }
    }

    /// `{system, value}`, an Identifier.
    static func identifier(_ system: String, _ value: String) -> (inout FHIRJSONWriter) -> Void {
        { json in
            json.member("system", system)
            json.member("value", value)
        }
    }

    static func phoneNumber(_ number: String) -> (inout FHIRJSONWriter) -> Void {
        { json in
            json.member("system", "phone")
            json.member("value", number)
        }
    }

    /// `{url, valueString}`, an extension with a text.
    static func extensionElement(_ url: String, _ text: String, into json: inout FHIRJSONWriter) {
        json.element { json in
            json.member("url", url)
            json.member("valueString", text)
        }
    }
}

extension FieldValue {
    fileprivate var isList: Bool {
        if case .list = self { true } else { false }
    }
}
