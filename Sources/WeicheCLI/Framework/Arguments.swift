/// The words after the command's name, consumed option by option.
///
/// Options are `--name value` or `--name=value`; flags are `--name`. A lone `--` ends the
/// options: what follows is positional even if it starts with `-`.
struct Arguments {
    private var words: [String]
    private var positional: [String] = []

    init(_ words: [String]) {
        if let end = words.firstIndex(of: "--") {
            self.words = Array(words[..<end])
            self.positional = Array(words[(end + 1)...])
        } else {
            self.words = words
        }
    }

    /// Removes `--name` and reports whether it was there.
    mutating func flag(_ name: String) -> Bool {
        guard let index = words.firstIndex(of: name) else { return false }
        words.remove(at: index)
        return true
    }

    /// Removes `--name value` (or `--name=value`) and returns the value.
    mutating func option(_ name: String) throws(UsageError) -> String? {
        if let index = words.firstIndex(of: name) {
            guard index + 1 < words.count, !words[index + 1].hasPrefix("--") else {
                throw UsageError("\(name) needs a value")
            }
            let value = words[index + 1]
            words.removeSubrange(index...(index + 1))
            return value
        }
        if let index = words.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            let value = String(words[index].dropFirst(name.count + 1))
            words.remove(at: index)
            return value
        }
        return nil
    }

    /// Returns the remaining positional words; any left-over option is a usage error.
    mutating func positionals() throws(UsageError) -> [String] {
        if let unknown = words.first(where: { $0.hasPrefix("-") && $0 != "-" }) {
            throw UsageError("unknown option '\(unknown)'")
        }
        defer { words = []; positional = [] }
        return words + positional
    }

    /// Checks that nothing is left.
    mutating func finish() throws(UsageError) {
        let rest = try positionals()
        if let first = rest.first { throw UsageError("unexpected argument '\(first)'") }
    }
}
