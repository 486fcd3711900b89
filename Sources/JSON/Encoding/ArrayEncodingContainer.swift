/// The unkeyed container that appends elements to an array under construction.
struct ArrayEncodingContainer: UnkeyedEncodingContainer {
    let encoder: ValueEncoder
    let array: ArrayBuilder

    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { array.elements.count }

    private func append(_ value: JSONValue) {
        array.elements.append(.value(value))
    }

    private func path() -> [any CodingKey] {
        encoder.codingPath(appending: .index(count))
    }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try Boxing.box(value, path())) }
    mutating func encode(_ value: Float) throws { append(try Boxing.box(value, path())) }
    mutating func encode(_ value: Int) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: Int8) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: Int16) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: Int32) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: Int64) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: UInt) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: UInt8) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: UInt16) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: UInt32) throws { append(Boxing.box(value)) }
    mutating func encode(_ value: UInt64) throws { append(Boxing.box(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        array.elements.append(try Boxing.encode(value, parent: encoder, component: .index(count)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        nestedEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        nestedEncoder().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        nestedEncoder()
    }

    /// An encoder for the next element, whose value is read when the output is resolved.
    private func nestedEncoder() -> ValueEncoder {
        let nested = ValueEncoder(parent: encoder, component: .index(count))
        array.elements.append(.pending(nested))
        return nested
    }
}
