/// The keyed container that appends members to an object under construction, in the order
/// they are encoded (for synthesized conformances: the order of the `CodingKeys` cases).
///
/// `encodeIfPresent` keeps the standard library's default, which skips nil: an optional
/// property that is nil is left out, not written as null. A key encoded twice is written twice
/// (readers, this one included, take the last).
struct ObjectEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: ValueEncoder
    let object: ObjectBuilder

    var codingPath: [any CodingKey] { encoder.codingPath }

    private func append(_ value: JSONValue, _ key: Key) {
        object.members.append((key.stringValue, .value(value)))
    }

    private func path(_ key: Key) -> [any CodingKey] {
        encoder.codingPath(appending: .key(key))
    }

    mutating func encodeNil(forKey key: Key) throws { append(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { append(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { append(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { append(try Boxing.box(value, path(key)), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { append(try Boxing.box(value, path(key)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { append(Boxing.box(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { append(Boxing.box(value), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let slot = try Boxing.encode(value, parent: encoder, component: .key(key))
        object.members.append((key.stringValue, slot))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        nestedEncoder(forKey: key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        nestedEncoder(forKey: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        nestedEncoder(named: StringKey("super"))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        nestedEncoder(forKey: key)
    }

    /// An encoder for the member at `key`, whose value is read when the output is resolved.
    private func nestedEncoder(forKey key: Key) -> ValueEncoder {
        nestedEncoder(named: key)
    }

    private func nestedEncoder(named key: any CodingKey) -> ValueEncoder {
        let nested = ValueEncoder(parent: encoder, component: .key(key))
        object.members.append((key.stringValue, .pending(nested)))
        return nested
    }
}
