/// Turning Swift values into `JSONValue`s: the checks every container shares, and the one
/// generic entry point every container calls for a nested value.
enum Boxing {
    /// A `Double` as a JSON number; NaN and the infinities have no JSON form and are refused.
    static func box(_ value: Double, _ path: @autoclosure () -> [any CodingKey]) throws -> JSONValue {
        guard let number = JSONNumber(value) else {
            throw EncodingError.invalidValue(value, .init(codingPath: path(),
                                                          debugDescription: "cannot encode \(value): JSON numbers are finite"))
        }
        return .number(number)
    }

    /// A `Float` through its own shortest text, so `Float(0.1)` is written `0.1` and not
    /// `0.10000000149011612` (its exact value as a `Double`).
    static func box(_ value: Float, _ path: @autoclosure () -> [any CodingKey]) throws -> JSONValue {
        guard value.isFinite, let double = Double(value.description) else {
            throw EncodingError.invalidValue(value, .init(codingPath: path(),
                                                          debugDescription: "cannot encode \(value): JSON numbers are finite"))
        }
        return .number(JSONNumber(storage: .double(double)))
    }

    static func box<T: BinaryInteger>(_ value: T) -> JSONValue {
        .number(JSONNumber(value))
    }

    /// Encodes a `T` that sits at `component` below `parent` (both nil at the top).
    ///
    /// As in `Unboxing.decode`, the common leaf types skip the encoder allocation and the
    /// single-value container; comparing metatypes is a pointer comparison, and no `as?` cast
    /// (with its slow conformance lookup) is needed.
    static func encode<T: Encodable>(_ value: T, parent: ValueEncoder?, component: PathComponent?) throws -> EncodedSlot {
        // Each unsafeBitCast converts a value to the type it already is: the metatype check
        // before it guarantees that T is exactly that type.
        if T.self == String.self { return .value(.string(unsafeBitCast(value, to: String.self))) }
        if T.self == Int.self { return .value(box(unsafeBitCast(value, to: Int.self))) }
        if T.self == Bool.self { return .value(.bool(unsafeBitCast(value, to: Bool.self))) }
        if T.self == [String].self { return .value(.array(unsafeBitCast(value, to: [String].self).map { .string($0) })) }
        if T.self == Int64.self { return .value(box(unsafeBitCast(value, to: Int64.self))) }
        if T.self == UInt64.self { return .value(box(unsafeBitCast(value, to: UInt64.self))) }
        if T.self == UInt32.self { return .value(box(unsafeBitCast(value, to: UInt32.self))) }
        if T.self == Int32.self { return .value(box(unsafeBitCast(value, to: Int32.self))) }
        if T.self == Double.self {
            return .value(try box(unsafeBitCast(value, to: Double.self),
                                  ValueEncoder.codingPath(parent: parent, component: component)))
        }
        if T.self == JSONValue.self { return .value(unsafeBitCast(value, to: JSONValue.self)) }
        let encoder = ValueEncoder(parent: parent, component: component)
        do {
            try value.encode(to: encoder)
        } catch {
            throw JSONError.thrownByType(error, at: encoder.codingPath)
        }
        return encoder.slot
    }
}
