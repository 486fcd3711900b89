/// Typed views of a `JSONValue`, for code that walks JSON by hand instead of through Codable:
/// `value["config"]?["Env"]?[0]?.string`. Each returns nil when the value is of another kind.
extension JSONValue {
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var number: JSONNumber? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members of an object, in order, duplicates included.
    public var object: [(key: String, value: JSONValue)]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// A number that is exactly an `Int` (`2.0` is; `2.5` and `2^63` are not).
    public var int: Int? { number?.integer(as: Int.self) }

    /// A number that is exactly an `Int64`.
    public var int64: Int64? { number?.int64 }

    /// A number that is exactly a `UInt64`: sizes and limits up to `UInt64.max`.
    public var uint64: UInt64? { number?.uint64 }

    /// Any number, as the nearest `Double`.
    public var double: Double? { number?.double }

    /// A number that is exactly a `T`, e.g. `value.integer(as: UInt32.self)` for a uid.
    @inlinable
    public func integer<T: FixedWidthInteger>(as type: T.Type) -> T? {
        number?.integer(as: type)
    }

    /// An element of an array; nil for another kind of value or an index out of range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// A member of an object (the last one when the key appears more than once); nil for another
    /// kind of value or a missing key.
    ///
    /// Setting a value replaces the member that lookups find, in place, or appends one; setting
    /// nil removes every member with the key. Setting on a value that is not an object turns it
    /// into one.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members.last(where: { $0.key == key })?.value
        }
        set {
            var members = object ?? []
            if let newValue {
                if let index = members.lastIndex(where: { $0.key == key }) {
                    members[index].value = newValue
                } else {
                    members.append((key, newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
            self = .object(members)
        }
    }
}
