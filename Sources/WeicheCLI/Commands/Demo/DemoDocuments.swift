import Foundation

/// The documents the agencies' systems hand to Weiche in the demo, each in the agency's own
/// format, as those systems would write them. Answers and receipts name the Weiche message id
/// of the referral they answer, which the agency read from the file Weiche delivered.
enum DemoDocuments {
    /// The sender message ids the demo's referrals carry, by story.
    enum ID {
        static let childcare = "2f1c7a52-1b5e-4c0e-9d8a-0d6f5b7e1a01"
        static let residenceQuestion = "6b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
        static let assessment = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
        static let counselling = "4c3b2a19-0817-4f6e-9d5c-4b3a29180716"
        static let childcareUnencodable = "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908"
        static let assessmentToWrongAgency = "1d2c3b4a-5968-4776-8a5b-4c3d2e1f0a9b"
        static let counsellingWithoutConsent = "0a1b2c3d-4e5f-4061-8273-8495a6b7c8d9"
        static let integrationCourse = "8e2f3041-5b6c-4d7e-9fa0-1b2c3d4e5f60"
        static let transition = "JA-2026-0418"
        static let transitionBadRow = "JA-2026-0419"
        static let childcareAnswer = "JA-2026-0420"
        static let residenceAnswer = "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c"
        static let assessmentResult = "GA-2026-000417"
    }

    static func isoTime(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func germanTime(_ date: Date) -> String {
        var style = Date.VerbatimFormatStyle(
            format: "\(day: .twoDigits).\(month: .twoDigits).\(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)",
            timeZone: TimeZone(identifier: "Europe/Berlin")!, calendar: Calendar(identifier: .gregorian))
        style.locale = Locale(identifier: "de_DE")
        return date.formatted(style)
    }

    // MARK: - Round 1: referrals and an ex-officio notification

    /// MaßArbeit's morning export: five referrals in one array.
    static func massarbeitReferrals(at now: Date) -> String {
        let caseworker = #""caseworker": { "id": "kav-017", "name": "Frau Weiß", "phone": "05931 44-1234" }"#
        return """
            [
              { "schema": "massarbeit.referral/1", "messageId": "\(ID.childcare)", "createdAt": "\(isoTime(now))",
                "type": "kinderbetreuung.anfrage", "to": "jugendamt", "caseNumber": "BG-4711-2026", \(caseworker),
                "legalBasis": "§ 69 Abs. 1 Nr. 1 SGB X i.V.m. § 16a Nr. 1 SGB II", "purpose": "Kinderbetreuung für die Arbeitsaufnahme",
                "person": { "familyName": "Müller", "givenName": "Sabine", "birthDate": "1991-02-28", "nationality": "DE",
                            "address": "Große Straße 5, 49716 Meppen" },
                "details": { "childrenAges": [1, 4], "hoursPerWeek": 30, "startDate": "2027-01-04", "notes": "Schichtdienst im Krankenhaus, ab 6 Uhr" } },
              { "schema": "massarbeit.referral/1", "messageId": "\(ID.residenceQuestion)", "createdAt": "\(isoTime(now))",
                "type": "aufenthalt.auskunft-anfrage", "to": "auslaenderbehoerde", "caseNumber": "BG-4712-2026", \(caseworker),
                "legalBasis": "§ 71 Abs. 2 SGB X / § 90 AufenthG", "purpose": "Arbeitsaufnahme als Lagerhelfer prüfen",
                "person": { "familyName": "Haddad", "givenName": "Rami", "birthDate": "1987-11-03", "nationality": "SY",
                            "address": "Am Markt 2, 49716 Meppen", "phone": "0151 2345678" },
                "details": { "question": "Ist eine Beschäftigung als Lagerhelfer erlaubt?" } },
              { "schema": "massarbeit.referral/1", "messageId": "\(ID.assessment)", "createdAt": "\(isoTime(now))",
                "type": "gesundheit.begutachtung-auftrag", "to": "gesundheitsamt", "caseNumber": "BG-4713-2026", \(caseworker),
                "legalBasis": "§ 50 Abs. 1 SGB II", "purpose": "Begutachtung der Erwerbsfähigkeit", "consentRef": "EW-2026-0815",
                "person": { "familyName": "Größer", "givenName": "Jürgen", "birthDate": "1979-11-03", "phone": "05931 98765" },
                "details": { "reason": "Wiederkehrende Rückenschmerzen, seit März mehrfach arbeitsunfähig",
                             "question": "Wie viele Stunden täglich ist Herr Größer erwerbsfähig?" } },
              { "schema": "massarbeit.referral/1", "messageId": "\(ID.counselling)", "createdAt": "\(isoTime(now))",
                "type": "beratung.zuweisung", "to": "psychosoziale-beratung", "caseNumber": "BG-4714-2026", \(caseworker),
                "legalBasis": "§ 16a Nr. 3 SGB II", "purpose": "Psychosoziale Betreuung", "consentRef": "EW-2026-0902",
                "person": { "familyName": "Schäfer", "givenName": "Monika", "birthDate": "1984-06-12", "phone": "0170 1112223" },
                "details": { "reason": "Überschuldung und Schlafstörungen belasten die Arbeitsuche", "urgency": "normal" } },
              { "schema": "massarbeit.referral/1", "messageId": "\(ID.childcareUnencodable)", "createdAt": "\(isoTime(now))",
                "type": "kinderbetreuung.anfrage", "to": "jugendamt", "caseNumber": "BG-4715-2026", \(caseworker),
                "legalBasis": "§ 69 Abs. 1 Nr. 1 SGB X i.V.m. § 16a Nr. 1 SGB II", "purpose": "Kinderbetreuung für die Arbeitsaufnahme",
                "person": { "familyName": "Yılmaz", "givenName": "Ayşe", "birthDate": "1993-09-14" },
                "details": { "childrenAges": [3], "hoursPerWeek": 25, "startDate": "2027-02-01" } }
            ]

            """
    }

    /// Two referrals no route allows as sent.
    static func massarbeitRefused(at now: Date) -> String {
        """
        [
          { "schema": "massarbeit.referral/1", "messageId": "\(ID.assessmentToWrongAgency)", "createdAt": "\(isoTime(now))",
            "type": "gesundheit.begutachtung-auftrag", "to": "auslaenderbehoerde", "caseNumber": "BG-4716-2026",
            "legalBasis": "§ 50 Abs. 1 SGB II", "purpose": "Begutachtung", "consentRef": "EW-2026-0999",
            "person": { "familyName": "Haddad", "givenName": "Rami", "birthDate": "1987-11-03" },
            "details": { "reason": "Verdacht auf Depression" } },
          { "schema": "massarbeit.referral/1", "messageId": "\(ID.counsellingWithoutConsent)", "createdAt": "\(isoTime(now))",
            "type": "beratung.zuweisung", "to": "psychosoziale-beratung", "caseNumber": "BG-4717-2026",
            "legalBasis": "§ 16a Nr. 3 SGB II", "purpose": "Psychosoziale Betreuung",
            "person": { "familyName": "Krause", "givenName": "Dieter", "birthDate": "1970-01-30" },
            "details": { "reason": "Suchtproblematik" } }
        ]

        """
    }

    /// The Ausländerbehörde notifies the job centre ex officio.
    static func integrationCourse(at now: Date) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <nachricht xmlns="urn:weiche:auslaenderbehoerde:1">
          <nachrichtenkopf>
            <nachrichtenUUID>\(ID.integrationCourse)</nachrichtenUUID>
            <nachrichtentyp>integrationskurs.verpflichtung</nachrichtentyp>
            <erstellungszeitpunkt>\(isoTime(now))</erstellungszeitpunkt>
            <autor><kennung>auslaenderbehoerde</kennung><name>Ausländerbehörde Landkreis</name></autor>
            <leser><kennung>massarbeit</kennung></leser>
          </nachrichtenkopf>
          <rechtsgrundlage>§ 44a AufenthG, § 88a AufenthG</rechtsgrundlage>
          <person><familienname>Nguyễn</familienname><vorname>Thị Lan</vorname><geburtsdatum>1992-07-19</geburtsdatum></person>
          <aktenzeichen>ABH-2026-0932</aktenzeichen>
          <inhalt><verpflichtetSeit>\(isoTime(now).prefix(10))</verpflichtetSeit><kursart>Allgemeiner Integrationskurs</kursart></inhalt>
        </nachricht>

        """
    }

    /// The Jugendamt's export: a young person's transition into training, and a row with an
    /// impossible birth date, which is rejected on its own.
    static func transition(at now: Date) -> String {
        let header = "Vorgangsnummer;Nachrichtentyp;Empfaenger;Erstellt;Aktenzeichen;Name;Vorname;Geburtsdatum;Rechtsgrundlage;Einwilligung;Schule;Schulabgang;Abschluss;Jugendhilfemassnahme;Hinweise"
        let stamp = germanTime(now)
        return header + "\r\n"
            + "\(ID.transition);uebergang.jugendberufshilfe;massarbeit;\(stamp);51-2026-418;Weiß;Lukas;03.05.2008;\"§ 69 SGB X; § 65 SGB VIII\";EW-JA-2026-3;Oberschule Meppen;30.06.2026;Hauptschulabschluss;\"Erziehungsbeistand nach § 30 SGB VIII\";\"Sucht einen Ausbildungsplatz als Tischler;\r\nPraktikum im Mai\"\r\n"
            + "\(ID.transitionBadRow);uebergang.jugendberufshilfe;massarbeit;\(stamp);51-2026-419;Brandt;Jonas;31.02.2008;§ 69 SGB X;EW-JA-2026-4;BBS Meppen;30.06.2026;;;\r\n"
    }

    // MARK: - Round 2: answers and receipts

    static func childcareAnswer(to referral: UUID, at now: Date) -> String {
        "Vorgangsnummer;Nachrichtentyp;Empfaenger;Erstellt;Aktenzeichen;Bezug;Name;Vorname;Geburtsdatum;Rechtsgrundlage;Ergebnis;Einrichtung;Beginn;StundenProWoche\r\n"
            + "\(ID.childcareAnswer);kinderbetreuung.ergebnis;massarbeit;\(germanTime(now));51-2026-420;\(referral.uuidString.lowercased());Müller;Sabine;28.02.1991;§ 69 Abs. 1 Nr. 1 SGB X;angeboten;\"Kita Sonnenschein; Außenstelle Süd\";04.01.2027;30\r\n"
    }

    static func residenceAnswer(to referral: UUID, at now: Date) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <nachricht xmlns="urn:weiche:auslaenderbehoerde:1">
          <nachrichtenkopf>
            <nachrichtenUUID>\(ID.residenceAnswer)</nachrichtenUUID>
            <nachrichtentyp>aufenthalt.auskunft</nachrichtentyp>
            <erstellungszeitpunkt>\(isoTime(now))</erstellungszeitpunkt>
            <autor><kennung>auslaenderbehoerde</kennung></autor>
            <leser><kennung>massarbeit</kennung></leser>
            <referenzUUID>\(referral.uuidString.lowercased())</referenzUUID>
          </nachrichtenkopf>
          <rechtsgrundlage>§ 90 AufenthG</rechtsgrundlage>
          <person><familienname>Haddad</familienname><vorname>Rami</vorname><geburtsdatum>1987-11-03</geburtsdatum></person>
          <aktenzeichen>ABH-2026-881</aktenzeichen>
          <inhalt>
            <aufenthaltstitel>§ 25 Abs. 2 AufenthG</aufenthaltstitel><gueltigBis>2028-05-31</gueltigBis>
            <erwerbstaetigkeit>mit-auflagen</erwerbstaetigkeit><auflagen>Beschäftigung nur im Landkreis Emsland</auflagen>
          </inhalt>
        </nachricht>

        """
    }

    static func residenceReceipt(for referral: UUID, at now: Date) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <quittung xmlns="urn:weiche:auslaenderbehoerde:1">
          <referenzUUID>\(referral.uuidString.lowercased())</referenzUUID>
          <zeitpunkt>\(isoTime(now))</zeitpunkt>
        </quittung>

        """
    }

    static func assessmentResult(to referral: UUID, at now: Date) -> String {
        let field = { (name: String, value: String) in
            #"{ "type": { "coding": [ { "system": "urn:weiche:field", "code": "details.\#(name)" } ] }, "valueString": "\#(value)" }"#
        }
        return """
            {
              "resourceType": "Bundle", "type": "message", "timestamp": "\(isoTime(now))",
              "entry": [
                { "fullUrl": "urn:uuid:0f1e2d3c-4b5a-4697-8877-665544332211",
                  "resource": { "resourceType": "MessageHeader",
                    "eventCoding": { "system": "urn:weiche:referral-type", "code": "gesundheit.begutachtung-ergebnis" },
                    "source": { "endpoint": "urn:weiche:agency:gesundheitsamt" },
                    "destination": [ { "endpoint": "urn:weiche:agency:massarbeit" } ],
                    "focus": [ { "reference": "urn:uuid:5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d" } ] } },
                { "fullUrl": "urn:uuid:5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
                  "resource": { "resourceType": "Task",
                    "extension": [ { "url": "urn:weiche:fhir:legal-basis", "valueString": "§ 50 Abs. 1 Satz 2 SGB II" },
                                   { "url": "urn:weiche:fhir:purpose", "valueString": "Ergebnis der Begutachtung" } ],
                    "identifier": [ { "system": "urn:weiche:message-id", "value": "\(ID.assessmentResult)" } ],
                    "basedOn": [ { "reference": "ServiceRequest/\(referral.uuidString.lowercased())" } ],
                    "status": "completed", "intent": "order",
                    "for": { "reference": "urn:uuid:9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a" },
                    "authoredOn": "\(isoTime(now))",
                    "reasonCode": { "coding": [ { "system": "http://fhir.de/CodeSystem/bfarm/icd-10-gm", "code": "M51.2", "display": "Bandscheibenverlagerung" } ] },
                    "output": [
                      \(field("hoursPerDay", "3-to-6")),
                      \(field("restrictions", "Kein Heben über 10 kg, überwiegend sitzend")),
                      \(field("expectedDuration", "voraussichtlich 6 Monate")),
                      \(field("findings", "MRT: Bandscheibenvorfall L4/L5"))
                    ] } },
                { "fullUrl": "urn:uuid:9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a",
                  "resource": { "resourceType": "Patient", "name": [ { "family": "Größer", "given": [ "Jürgen" ] } ], "birthDate": "1979-11-03" } },
                { "fullUrl": "urn:uuid:2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
                  "resource": { "resourceType": "Condition", "code": { "text": "Lumbale Radikulopathie" },
                    "subject": { "reference": "urn:uuid:9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a" } } }
              ]
            }

            """
    }

    /// A FHIR response message: `ok`, or `fatal-error` with the reason.
    static func fhirReceipt(for referral: UUID, from agency: String, rejection: (code: String, reason: String)?, at now: Date) -> String {
        let outcome = rejection.map { rejection in
            """
            ,
                { "fullUrl": "urn:uuid:4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
                  "resource": { "resourceType": "OperationOutcome", "issue": [ { "severity": "error", "code": "business-rule",
                    "details": { "coding": [ { "system": "urn:weiche:rejection-code", "code": "\(rejection.code)" } ], "text": "\(rejection.reason)" } } ] } }
            """
        } ?? ""
        let details = rejection == nil ? "" : #", "details": { "reference": "urn:uuid:4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a" }"#
        return """
            {
              "resourceType": "Bundle", "type": "message", "timestamp": "\(isoTime(now))",
              "entry": [
                { "fullUrl": "urn:uuid:3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
                  "resource": { "resourceType": "MessageHeader",
                    "eventCoding": { "system": "urn:weiche:event", "code": "receipt" },
                    "source": { "endpoint": "urn:weiche:agency:\(agency)" },
                    "response": { "identifier": "\(referral.uuidString.lowercased())", "code": "\(rejection == nil ? "ok" : "fatal-error")"\(details) } } }\(outcome)
              ]
            }

            """
    }
}
