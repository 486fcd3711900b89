/// A JSON value: what `JSON.parse` returns and `JSON.serialize` writes.
///
/// Objects are lists of members, not dictionaries, so the order of keys survives a round trip
/// (a config rewritten by berth diffs cleanly against the original) and small objects, the
/// common case, are searched without hashing. A key that appears twice is kept twice; lookups
/// return the last one, as most JSON readers do.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])
}

extension JSONValue: Equatable {
    /// Structural equality: objects are equal when they have the same members in the same order
    /// (so two values are equal exactly when they serialize to the same text, up to how numbers
    /// are written: `2` equals `2.0`).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value as compact JSON text.
    public var description: String { serialized() }

    /// The value as JSON text, compact or pretty (see `JSON.serialize`).
    public func serialized(pretty: Bool = false) -> String {
        String(decoding: JSON.serialize(self, pretty: pretty), as: UTF8.self)
    }
}
