import Foundation

/// Reads the times operators and auditors type: ISO 8601 (`2026-11-25T08:00:00+01:00`,
/// `2026-11-25T07:00Z`), a day (`2026-11-25`, midnight UTC), or an age before now (`30m`,
/// `2h`, `3d`, `1w`).
enum TimeArgument {
    static func parse(_ text: String, option: String, now: Date = Date()) throws(UsageError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let amount = Int(trimmed.dropLast()), amount >= 0, amount <= 100_000 {
            let seconds: Double? = switch unit {
            case "s": 1
            case "m": 60
            case "h": 3600
            case "d": 86_400
            case "w": 604_800
            default: nil
            }
            if let seconds { return now.addingTimeInterval(-Double(amount) * seconds) }
        }
        if trimmed.count <= 40 {
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(trimmed) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(trimmed) { return date }
            if let date = try? Date.ISO8601FormatStyle().year().month().day().dateSeparator(.dash).parse(trimmed) { return date }
        }
        throw UsageError("\(option): '\(trimmed.prefix(40))' is not a time; use ISO 8601 (2026-11-25T08:00:00+01:00, 2026-11-25) or an age (30m, 2h, 3d, 1w)")
    }
}
