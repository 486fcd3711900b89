/// What an encoder has produced so far for one position in the output.
///
/// Codable hands out containers that the caller fills in later (and may keep using after a
/// nested value was started), so objects and arrays are built in shared mutable boxes and
/// turned into a `JSONValue` once, at the end.
enum EncodedSlot {
    /// Nothing encoded yet.
    case empty
    case value(JSONValue)
    case object(ObjectBuilder)
    case array(ArrayBuilder)
    /// A nested or super encoder whose value may still change: read when resolving.
    case pending(ValueEncoder)

    /// The finished value; nil only if nothing was ever encoded here.
    func resolve() -> JSONValue? {
        switch self {
        case .empty: return nil
        case .value(let value): return value
        case .object(let object): return object.resolve()
        case .array(let array): return .array(array.elements.map { $0.resolve() ?? .object([]) })
        case .pending(let encoder): return encoder.slot.resolve()
        }
    }
}

/// The members of an object under construction.
final class ObjectBuilder {
    var members: [(key: String, value: EncodedSlot)] = []
    /// Set for the containers of Swift dictionaries, whose iteration order is random: their
    /// keys are sorted (by UTF-8 bytes, as Go and most tools do) so output is deterministic.
    let sortsKeys: Bool

    init(sortsKeys: Bool) {
        self.sortsKeys = sortsKeys
    }

    func resolve() -> JSONValue {
        // A value that encoded nothing at all (a custom `encode(to:)` that returns early)
        // becomes `{}`, as with Foundation's encoder.
        var resolved = members.map { (key: $0.key, value: $0.value.resolve() ?? .object([])) }
        if sortsKeys {
            resolved.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        }
        return .object(resolved)
    }
}

/// The elements of an array under construction.
final class ArrayBuilder {
    var elements: [EncodedSlot] = []
}
