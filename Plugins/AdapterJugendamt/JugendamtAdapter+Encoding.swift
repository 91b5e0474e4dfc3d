import Foundation
import WeicheCore

extension JugendamtAdapter {
    public func encode(_ referral: Referral) throws(Rejection) -> OutboundDocument {
        guard let id = referral.id else { throw Rejection(reason: "the referral has no Weiche message id") }
        guard let layout = Self.layouts[referral.type.rawValue] else {
            throw Rejection(field: "type", reason: "the Jugendamt's format has no columns for \(referral.type)")
        }
        var values = [String](repeating: "", count: layout.header.count)
        func put(_ header: String, _ value: String?) {
            if let value, let column = layout.columnOfHeader[header] { values[column] = value }
        }
        put("Vorgangsnummer", referral.senderMessageID)
        put("Nachrichtentyp", referral.type.rawValue)
        put("Empfaenger", referral.recipients.map(\.rawValue).joined(separator: ","))
        put("Erstellt", Self.formatDateTime(referral.createdAt))
        put("Rechtsgrundlage", referral.legalBasis)
        put("Zweck", referral.purpose)
        put("WeicheId", id.lowercasedString)
        put("Absender", referral.sender.rawValue)
        put("Einwilligung", referral.consentReference)
        put("Bezug", referral.inReplyTo)
        put("Hinweis", referral.notice)
        for field in referral.fields {
            if let column = layout.columnOfField[field.name] { values[column] = Self.text(field.value) }
        }
        var bytes = layout.headerLine
        bytes.reserveCapacity(bytes.count * 4)
        for (column, value) in values.enumerated() {
            if column > 0 { bytes.append(UInt8(ascii: ";")) }
            guard CSV.appendField(value, to: &bytes) else {
                throw Rejection(field: layout.header[column], reason: "holds characters that Windows-1252 cannot represent")
            }
        }
        bytes.append(contentsOf: [0x0D, 0x0A])
        return OutboundDocument(bytes: bytes, fileName: "\(id.lowercasedString).csv", contentType: "text/csv; charset=windows-1252")
    }

    /// The columns of one type's file, worked out once: the envelope, the subject columns,
    /// then the type's own.
    struct Layout {
        let header: [String]
        /// The header row as written, in Windows-1252 (the names are ASCII), with its CRLF.
        let headerLine: [UInt8]
        let columnOfHeader: [String: Int]
        let columnOfField: [String: Int]

        init(_ columns: [Column]) {
            let subjectHeaders = JugendamtAdapter.subjectColumns.map(\.header).filter { !JugendamtAdapter.envelopeHeaders.contains($0) }
            header = JugendamtAdapter.envelopeHeaders + subjectHeaders + columns.map(\.header).filter { !subjectHeaders.contains($0) }
            headerLine = Array((header.joined(separator: ";") + "\r\n").utf8)
            columnOfHeader = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            var columnOfField: [String: Int] = [:]
            for column in JugendamtAdapter.subjectColumns + columns where columnOfField[column.field] == nil {
                columnOfField[column.field] = columnOfHeader[column.header]
            }
            self.columnOfField = columnOfField
        }
    }

    static let layouts: [String: Layout] = detailColumns.mapValues(Layout.init)

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
        // The usual `yyyy-MM-dd` by its bytes; anything else split at its hyphens.
        let utf8 = Array(iso.utf8)
        let isUsual = utf8.count == 10 && utf8.indices.allSatisfy { index in
            index == 4 || index == 7 ? utf8[index] == UInt8(ascii: "-") : utf8[index] &- UInt8(ascii: "0") < 10
        }
        if isUsual {
            return String(unsafeUninitializedCapacity: 10) { buffer in
                for (target, source) in [8, 9, 7, 5, 6, 4, 0, 1, 2, 3].enumerated() {
                    buffer[target] = source == 4 || source == 7 ? UInt8(ascii: ".") : utf8[source]
                }
                return 10
            }
        }
        let parts = iso.split(separator: "-")
        return parts.count == 3 ? "\(parts[2]).\(parts[1]).\(parts[0])" : iso
    }

    /// `dd.MM.yyyy HH:mm` in Berlin: the offset from Foundation's time zone, the rest by
    /// arithmetic (a calendar's date components were most of the writer's time). The minute
    /// is cut from the microsecond the store keeps, as every writer cuts its unit.
    static func formatDateTime(_ date: Date) -> String {
        let local = Int(ISO8601Time.secondsAndMicroseconds(date).seconds) + berlin.secondsFromGMT(for: date)
        let (year, month, day, secondOfDay) = ISO8601Time.civil(secondsFrom2001: local)
        func two(_ number: Int) -> String { number < 10 ? "0\(number)" : String(number) }
        return "\(two(day)).\(two(month)).\(year) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60))"
    }
}
