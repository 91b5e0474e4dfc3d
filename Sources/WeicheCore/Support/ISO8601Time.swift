import Foundation

/// Reads ISO 8601 times with an offset (`2026-01-05T09:00:00.250+01:00`) as Foundation's
/// `Date.ISO8601FormatStyle` does, with or without fractional seconds, and gives the same
/// `Date` (in about one of 20,000 random times with a fraction, the `Double` next to it, less
/// than a microsecond apart: Foundation adds the fraction in another order). The usual form — a Gregorian date from 1583 on, a valid time, 0 to 9 fraction
/// digits, `Z` or an offset up to 14 hours — is read by arithmetic; everything else (and
/// everything Foundation is lenient about, such as 30 February or 24:00) goes to Foundation.
/// Parsing through Foundation was a tenth of the MaßArbeit reader's time.
public enum ISO8601Time {
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let plain = Date.ISO8601FormatStyle()

    /// The longest text read as a time; longer ones are refused unread.
    public static let maximumLength = 40

    /// The time `text` names, or nil if it is longer than ``maximumLength`` bytes or
    /// Foundation's ISO 8601 styles read nothing there.
    public static func parse(_ text: String) -> Date? {
        guard text.utf8.count <= maximumLength else { return nil }
        if let date = fastParse(text) { return date }
        return (try? fractional.parse(text)) ?? (try? plain.parse(text))
    }

    static func fastParse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            guard bytes.count >= 20, bytes.count <= 35 else { return nil }
            func number(_ offset: Int, _ width: Int) -> Int? {
                var value = 0
                for index in offset..<(offset + width) {
                    let digit = bytes[index] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    value = value * 10 + Int(digit)
                }
                return value
            }
            guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
                bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
                let year = number(0, 4), year >= 1583, let month = number(5, 2), (1...12).contains(month),
                let day = number(8, 2), day >= 1, day <= daysIn(month, of: year),
                let hour = number(11, 2), hour < 24, let minute = number(14, 2), minute < 60,
                let second = number(17, 2), second < 60
            else { return nil }
            var index = 19
            var fraction = 0, digits = 0
            if bytes[index] == UInt8(ascii: ".") {
                index += 1
                while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 {
                    fraction = fraction * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
                    digits += 1
                    index += 1
                }
                guard (1...9).contains(digits) else { return nil }
            }
            var offsetSeconds = 0
            switch (bytes.count - index, bytes[index]) {
            case (1, UInt8(ascii: "Z")): break
            case (6, UInt8(ascii: "+")), (6, UInt8(ascii: "-")):
                guard bytes[index + 3] == UInt8(ascii: ":"), let hours = number(index + 1, 2), let minutes = number(index + 4, 2),
                    minutes < 60, hours * 60 + minutes <= 14 * 60
                else { return nil }
                offsetSeconds = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            default: return nil
            }
            let seconds = daysFrom2001(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
            var scale = 1
            for _ in 0..<digits { scale *= 10 }
            return Date(timeIntervalSinceReferenceDate: Double(seconds) + Double(fraction) / Double(scale))
        }
    }

    /// A time to the microsecond, as the store keeps it (PostgreSQL's `timestamptz`): whole
    /// seconds since 2001-01-01 (rounded down) and the microseconds into that second.
    ///
    /// Writers cut the unit they write from this, not from the `Double`: the time read as
    /// `08:00:00.123` is a `Double` a little below it, and milliseconds cut from that were
    /// written as `.122`. Cut from the microsecond, a time is written as it was read and as
    /// the store gives it back.
    public static func secondsAndMicroseconds(_ date: Date) -> (seconds: Double, microseconds: Int) {
        let interval = date.timeIntervalSinceReferenceDate
        var whole = interval.rounded(.down)
        guard whole.isFinite else { return (whole, 0) }
        var microseconds = ((interval - whole) * 1_000_000).rounded()
        if microseconds >= 1_000_000 {
            whole += 1
            microseconds = 0
        }
        return (whole, Int(microseconds))
    }

    /// `date` in the form `Date.ISO8601FormatStyle(includingFractionalSeconds: true)` writes,
    /// such as `2026-01-05T08:00:00.250Z`: UTC, with the milliseconds cut from the microsecond
    /// the store keeps (``secondsAndMicroseconds(_:)``), so that `.123` read is `.123` written
    /// where Foundation writes `.122`. Years 1583 to 9999 are written by arithmetic, everything
    /// else by Foundation, whose calendar is Julian before 1582.
    public static func format(_ date: Date) -> String {
        let (whole, microseconds) = secondsAndMicroseconds(date)
        guard whole.isFinite, abs(whole) < 300_000_000_000 else { return date.formatted(fractional) }
        let milliseconds = microseconds / 1000
        let (year, month, day, secondOfDay) = civil(secondsFrom2001: Int(whole))
        guard (1583...9999).contains(year) else { return date.formatted(fractional) }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func put(_ value: Int, width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                while divisor > 0 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    index += 1
                    divisor /= 10
                }
            }
            func put(_ byte: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: byte)
                index += 1
            }
            put(year, width: 4); put("-"); put(month, width: 2); put("-"); put(day, width: 2); put("T")
            put(secondOfDay / 3600, width: 2); put(":"); put(secondOfDay / 60 % 60, width: 2); put(":")
            put(secondOfDay % 60, width: 2); put("."); put(milliseconds, width: 3); put("Z")
            return index
        }
    }

    /// The Gregorian date and the second of its day `seconds` after 2001-01-01T00:00:00
    /// (negative before), in whatever zone the count is in.
    public static func civil(secondsFrom2001 seconds: Int) -> (year: Int, month: Int, day: Int, secondOfDay: Int) {
        let (year, month, day) = civil(daysFrom2001: seconds.floorDivided(by: 86_400))
        return (year, month, day, seconds.floorModulo(86_400))
    }

    /// The Gregorian date `days` after 2001-01-01 (the inverse of ``daysFrom2001(year:month:day:)``).
    public static func civil(daysFrom2001 days: Int) -> (year: Int, month: Int, day: Int) {
        // Days since 0000-03-01, in eras of 400 years that each start on 1 March.
        let shifted = days + 730_791
        let era = shifted.floorDivided(by: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(_ month: Int, of year: Int) -> Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Days from 2001-01-01 (Foundation's reference date) to a Gregorian date.
    static func daysFrom2001(year: Int, month: Int, day: Int) -> Int {
        let before = year - 1
        let daysBeforeYear = before * 365 + before / 4 - before / 100 + before / 400 - 730_485
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][month - 1]
        let leapDay = month > 2 && daysIn(2, of: year) == 29 ? 1 : 0
        return daysBeforeYear + cumulative + leapDay + day - 1
    }
}

extension Int {
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int) -> Int {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
