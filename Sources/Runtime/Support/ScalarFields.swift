extension String {
    /// The text between the occurrences of `separator`, found among the Unicode scalars rather
    /// than the characters: a command line's ':' or a path's '/' after a combining or prepending
    /// mark (U+06DD, say) forms one character with it, and a character-wise split would not see
    /// the separator at all, which a "no '..' component" check must never miss.
    public func fields(separatedBy separator: Unicode.Scalar, maxSplits: Int = .max,
                       omittingEmptySubsequences: Bool = true) -> [String] {
        unicodeScalars.split(separator: separator, maxSplits: maxSplits,
                             omittingEmptySubsequences: omittingEmptySubsequences).map { String($0) }
    }
}
