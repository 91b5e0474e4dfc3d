import Foundation
import WeicheCore

extension JugendamtAdapter {
    public func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument {
        guard let id = referral.id else { throw Rejection(reason: "the referral has no Weiche message id") }
        guard let columns = Self.detailColumns[referral.type.rawValue] else {
            throw Rejection(field: "type", reason: "the Jugendamt's format has no columns for \(referral.type)")
        }
        let subjectHeaders = Self.subjectColumns.map(\.header).filter { !Self.envelopeHeaders.contains($0) }
        let header = Self.envelopeHeaders + subjectHeaders + columns.map(\.header).filter { !subjectHeaders.contains($0) }
        var row: [String: String] = [
            "Vorgangsnummer": referral.senderMessageID, "Nachrichtentyp": referral.type.rawValue,
            "Empfaenger": referral.recipients.map(\.rawValue).joined(separator: ","), "Erstellt": Self.formatDateTime(referral.createdAt),
            "Rechtsgrundlage": referral.legalBasis, "Zweck": referral.purpose, "WeicheId": id.lowercasedString,
            "Absender": referral.sender.rawValue,
        ]
        if let consent = referral.consentReference { row["Einwilligung"] = consent }
        if let reply = referral.inReplyTo { row["Bezug"] = reply }
        if let notice = referral.notice { row["Hinweis"] = notice }
        let fieldColumns = Self.subjectColumns + columns
        for field in referral.fields {
            guard let column = fieldColumns.first(where: { $0.field == field.name }) else { continue }
            row[column.header] = Self.text(field.value)
        }
        let text = CSV.line(header) + CSV.line(header.map { row[$0] ?? "" })
        guard let bytes = Windows1252.encode(text) else {
            let column = header.first { Windows1252.encode(row[$0] ?? "") == nil } ?? "?"
            throw Rejection(field: column, reason: "holds characters that Windows-1252 cannot represent")
        }
        return OutboundDocument(bytes: bytes, fileName: "\(id.lowercasedString).csv", contentType: "text/csv; charset=windows-1252")
    }

    public func encode(_ receipt: Receipt) throws(Rejection) -> OutboundDocument {
        throw Rejection(reason: "the Jugendamt's CSV format has no receipts")
    }

    static func text(_ value: FieldValue) -> String {
        switch value {
        case .text(let text): choiceWords.first { $0.value == text }?.key ?? text
        case .day(let day): germanDay(day)
        case .integer(let number): String(number)
        case .boolean(let flag): flag ? "ja" : "nein"
        case .list(let values): values.map(text).joined(separator: ",")
        }
    }

    static func germanDay(_ iso: String) -> String {
        let parts = iso.split(separator: "-")
        return parts.count == 3 ? "\(parts[2]).\(parts[1]).\(parts[0])" : iso
    }

    static func formatDateTime(_ date: Date) -> String {
        let parts = berlinCalendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ number: Int?) -> String {
            let number = number ?? 0
            return number < 10 ? "0\(number)" : String(number)
        }
        return "\(two(parts.day)).\(two(parts.month)).\(parts.year ?? 0) \(two(parts.hour)):\(two(parts.minute))"
    }
}
