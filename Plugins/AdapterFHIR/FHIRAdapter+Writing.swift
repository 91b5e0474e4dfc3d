import Foundation
import WeicheCore

extension FHIRAdapter {
    /// Writes the message Bundle of a referral: MessageHeader first, then the focus resource
    /// (a ServiceRequest for a request, a Task for a result), the Patient, the caseworker's
    /// Practitioner and the Consent, each present only when the referral has data for it.
    ///
    /// Every object's members are written in ``FHIRJSONWriter``'s order: `resourceType`, `id`,
    /// then by name.
    ///
    /// A class: the closures that write each object capture it, and a struct holding the
    /// referral was copied into them, retaining and releasing every text of the referral each
    /// time (Docs/Performance.md).
    final class Writer {
        let referral: Referral
        let id: UUID

        init(referral: Referral, id: UUID) {
            self.referral = referral
            self.id = id
        }

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
                json.member("id", id: EntryRole.bundle.uuid(in: id))
                json.member("entry", array: { json in
                    entry(.header, into: &json) { messageHeader(into: &$0) }
                    entry(.focus, into: &json) { json in
                        if isResult { task(caseworker, into: &json) } else { serviceRequest(caseworker, into: &json) }
                    }
                    entry(.patient, into: &json) { patient(into: &$0) }
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
                json.member("fullUrl", id: role.uuid(in: id), prefix: "urn:uuid:")
                json.member("resource", object: body)
            }
        }

        func messageHeader(into json: inout FHIRJSONWriter) {
            json.member("resourceType", "MessageHeader")
            json.member("id", id: EntryRole.header.uuid(in: id))
            json.member("destination", array: { json in
                for recipient in referral.recipients {
                    json.element { json in
                        json.member("endpoint", FHIRVocabulary.endpoint(recipient))
                        json.member("name", recipient.rawValue)
                    }
                }
            })
            json.member("eventCoding", object: { FHIRAdapter.coding(FHIRVocabulary.referralTypeSystem, referral.type.rawValue, into: &$0) })
            json.member("focus", arrayOfOne: { reference(.focus, into: &$0) })
            json.member("source", object: { json in
                json.member("endpoint", FHIRVocabulary.endpoint(referral.sender))
                json.member("name", referral.sender.rawValue)
            })
        }

        func serviceRequest(_ caseworker: Caseworker, into json: inout FHIRJSONWriter) {
            json.member("resourceType", "ServiceRequest")
            json.member("id", id: EntryRole.focus.uuid(in: id))
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
            if !caseworker.isEmpty { json.member("requester", object: { reference(.practitioner, into: &$0) }) }
            json.member("status", "active")
            json.member("subject", object: { reference(.patient, into: &$0) })
            if referral.consentReference != nil { json.member("supportingInfo", arrayOfOne: { reference(.consent, into: &$0) }) }
        }

        func task(_ caseworker: Caseworker, into json: inout FHIRJSONWriter) {
            json.member("resourceType", "Task")
            json.member("id", id: EntryRole.focus.uuid(in: id))
            focusCommonUpToExtension(into: &json)
            json.member("for", object: { reference(.patient, into: &$0) })
            identifiers(into: &json)
            json.member("intent", "order")
            let outputs = referral.fields.filter(isOutput)
            if !outputs.isEmpty {
                json.member("output", array: { json in
                    for field in outputs {
                        json.element { json in
                            json.member("type", object: { json in
                                json.member("coding", arrayOfOne: { FHIRAdapter.coding(FHIRVocabulary.fieldSystem, field.name, into: &$0) })
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
            if !caseworker.isEmpty { json.member("owner", object: { reference(.practitioner, into: &$0) }) }
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
            if let reply = referral.inReplyTo { json.member("basedOn", arrayOfOne: { basedOn(reply, into: &$0) }) }
            json.member("code", object: { json in
                json.member("coding", arrayOfOne: { FHIRAdapter.coding(FHIRVocabulary.referralTypeSystem, referral.type.rawValue, into: &$0) })
            })
            json.member("extension", array: { json in
                extensionElement(FHIRVocabulary.legalBasisExtension, referral.legalBasis, into: &json)
                extensionElement(FHIRVocabulary.purposeExtension, referral.purpose, into: &json)
                if let notice = referral.notice { extensionElement(FHIRVocabulary.noticeExtension, notice, into: &json) }
            })
        }

        func identifiers(into json: inout FHIRJSONWriter) {
            json.member("identifier", array: { json in
                json.element(object: { FHIRAdapter.identifier(FHIRVocabulary.messageIDSystem, referral.senderMessageID, into: &$0) })
                if let caseNumber = text("caseNumber") {
                    json.element(object: { FHIRAdapter.identifier(FHIRVocabulary.caseNumberSystem, caseNumber, into: &$0) })
                }
            })
        }

        /// A reference to the answered message: by id when it is a FHIR id (a Weiche message
        /// id always is), otherwise by identifier.
        func basedOn(_ reply: String, into json: inout FHIRJSONWriter) {
            if FHIRVocabulary.isFHIRID(reply) {
                json.member("reference", "ServiceRequest/" + reply)
            } else {
                json.member("identifier", object: { FHIRAdapter.identifier(FHIRVocabulary.messageIDSystem, reply, into: &$0) })
            }
        }

        func patient(into json: inout FHIRJSONWriter) {
            json.member("resourceType", "Patient")
            json.member("id", id: EntryRole.patient.uuid(in: id))
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
            if let phone = text("person.phone") { json.member("telecom", arrayOfOne: { FHIRAdapter.phoneNumber(phone, into: &$0) }) }
        }

        /// The caseworker fields a Practitioner is written from; none, and there is no Practitioner.
        struct Caseworker {
            let id: String?, name: String?, phone: String?
            var isEmpty: Bool { id == nil && name == nil && phone == nil }
        }

        func practitioner(_ caseworker: Caseworker, into json: inout FHIRJSONWriter) {
            json.member("resourceType", "Practitioner")
            json.member("id", id: EntryRole.practitioner.uuid(in: id))
            if let id = caseworker.id { json.member("identifier", arrayOfOne: { FHIRAdapter.identifier(FHIRVocabulary.caseworkerSystem, id, into: &$0) }) }
            if let name = caseworker.name { json.member("name", arrayOfOne: { $0.member("text", name) }) }
            if let phone = caseworker.phone { json.member("telecom", arrayOfOne: { FHIRAdapter.phoneNumber(phone, into: &$0) }) }
        }

        func consent(_ consentReference: String, into json: inout FHIRJSONWriter) {
            json.member("resourceType", "Consent")
            json.member("id", id: EntryRole.consent.uuid(in: id))
            json.member("category", arrayOfOne: { $0.member("coding", arrayOfOne: { FHIRAdapter.coding("http://loinc.org", "59284-0", into: &$0) }) })
            json.member("identifier", arrayOfOne: { FHIRAdapter.identifier(FHIRVocabulary.consentSystem, consentReference, into: &$0) })
            json.member("patient", object: { reference(.patient, into: &$0) })
            json.member("policyRule", object: { $0.member("text", "Einwilligung der betroffenen Person") })
            json.member("scope", object: { json in
                json.member("coding", arrayOfOne: { FHIRAdapter.coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy", into: &$0) })
            })
            json.member("status", "active")
        }

        /// `reference`: the full URL of the entry of `role`.
        func reference(_ role: EntryRole, into json: inout FHIRJSONWriter) {
            json.member("reference", id: role.uuid(in: id), prefix: "urn:uuid:")
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
                        json.member("eventCoding", object: { coding(FHIRVocabulary.receiptEvent.0, FHIRVocabulary.receiptEvent.1, into: &$0) })
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
                                    json.member("coding", arrayOfOne: { coding(FHIRVocabulary.rejectionCodeSystem, rejection.code, into: &$0) })
                                    json.member("text", rejection.reason)
                                })
                                json.member("severity", "error")
                            })
                        })
                    }
                }
            })
            if let messageID = receipt.senderMessageID {
                json.member("identifier", object: { identifier(FHIRVocabulary.messageIDSystem, messageID, into: &$0) })
            }
            json.member("timestamp", FHIRVocabulary.instant(receipt.issuedAt))
            json.member("type", "message")
        }
        return json.document()
    }

    // MARK: - Small shapes

    // Written into the open object, not returned as closures: a returned closure is allocated
    // with what it captures, several times per Bundle (Docs/Performance.md).

    /// `{code, system}`, a Coding.
    static func coding(_ system: String, _ code: String, into json: inout FHIRJSONWriter) {
        json.member("code", code)
        json.member("system", system)
    }

    /// `{system, value}`, an Identifier.
    static func identifier(_ system: String, _ value: String, into json: inout FHIRJSONWriter) {
        json.member("system", system)
        json.member("value", value)
    }

    static func phoneNumber(_ number: String, into json: inout FHIRJSONWriter) {
        json.member("system", "phone")
        json.member("value", number)
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
