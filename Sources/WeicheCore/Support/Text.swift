extension StringProtocol {
    /// Whether the text is empty or only white space: Unicode's `White_Space` (spaces, tabs,
    /// line breaks, U+0085, U+00A0 and the other space separators) and the zero-width space
    /// U+200B. The same answer as trimming Foundation's `.whitespacesAndNewlines` and asking
    /// for emptiness, without building a trimmed copy: it stops at the first other character.
    public var isBlank: Bool {
        unicodeScalars.allSatisfy { $0.properties.isWhitespace || $0 == "\u{200B}" }
    }
}
