/// Semicolon-separated values as RFC 4180 defines them (with `;` for `,`): a field may be quoted,
/// a quoted field may hold `;`, line breaks and doubled quotes (`""`). Records end with CRLF or LF.
enum CSV {
    /// One record and the line it starts on (1-based), for messages.
    struct Record {
        var fields: [String]
        var line: Int
    }

    struct UnterminatedQuote: Error {
        var line: Int
    }

    /// Splits `text` into records. An unterminated quoted field swallows the rest of the text:
    /// the records before it are returned together with the error.
    static func parse(_ text: String) -> (records: [Record], error: UnterminatedQuote?) {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var quoteOpenedOnLine = 1
        var line = 1
        var recordLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending = iterator.next()
        func endRecord() {
            fields.append(field)
            field = ""
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(fields: fields, line: recordLine)) }
            fields = []
        }
        while let scalar = pending {
            pending = iterator.next()
            if inQuotes {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = iterator.next()
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty:
                inQuotes = true
                quoteOpenedOnLine = line
            case ";":
                fields.append(field)
                field = ""
            case "\r" where pending == "\n":
                break
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes { return (records, UnterminatedQuote(line: quoteOpenedOnLine)) }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return (records, nil)
    }

    /// Appends `field` in Windows-1252, quoted if it holds `;`, `"` or a line break (with its
    /// quotes doubled); false, with nothing appended, if Windows-1252 cannot represent it.
    static func appendField(_ field: String, to bytes: inout [UInt8]) -> Bool {
        var field = field
        let (needsQuotes, isASCII) = field.withUTF8 { utf8 in
            var needsQuotes = false, isASCII = true
            // Bytes, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: ";"), UInt8(ascii: "\""), 0x0A, 0x0D: needsQuotes = true
                case 0x80...: isASCII = false
                default: continue
                }
            }
            // ASCII is the same in Windows-1252.
            if !needsQuotes, isASCII { bytes.append(contentsOf: utf8) }
            return (needsQuotes, isASCII)
        }
        if !needsQuotes, isASCII { return true }
        return Windows1252.append(needsQuotes ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field, to: &bytes)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
