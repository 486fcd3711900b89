extension Duration {
    /// The whole milliseconds of a timeout, as error sentences give it.
    var wholeMilliseconds: Int64 {
        components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
    }
}
