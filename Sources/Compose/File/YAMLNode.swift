/// One node of a YAML document as the Compose reader needs it: a scalar's text, a sequence or a
/// mapping, with the line and column it starts at (1-based) so that every error can name them.
/// Aliases are already replaced by what their anchor names, and merge keys (`<<`) folded in.
public struct YAMLNode: Sendable {
    public indirect enum Value: Sendable {
        /// `plain` is false for a quoted or block scalar: `"null"` is a string, `null` is not.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        /// Entries in the file's order; a key appears once.
        case mapping([(key: String, value: YAMLNode)])
    }

    public var value: Value
    public var line: Int
    public var column: Int

    public init(_ value: Value, line: Int, column: Int = 1) {
        self.value = value
        self.line = line
        self.column = column
    }

    /// YAML's null: `~`, `null`, or nothing at all (`key:`), unquoted.
    public var isNull: Bool {
        guard case .scalar(let text, plain: true) = value else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    public var scalar: String? {
        if case .scalar(let text, _) = value { return text }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = value { return items }
        return nil
    }

    public var mapping: [(key: String, value: YAMLNode)]? {
        if case .mapping(let entries) = value { return entries }
        return nil
    }

    /// The value of `key` in a mapping.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first { $0.key == key }?.value
    }

    /// What the node is, for "must be a list"-style errors' other half.
    public var kindName: String {
        switch value {
        case .scalar: isNull ? "null" : "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}
