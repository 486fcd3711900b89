/// The single-value container of an encoder is the encoder itself: the value fills its slot.
extension ValueEncoder: SingleValueEncodingContainer {
    func encodeNil() throws { slot = .value(.null) }
    func encode(_ value: Bool) throws { slot = .value(.bool(value)) }
    func encode(_ value: String) throws { slot = .value(.string(value)) }
    func encode(_ value: Double) throws { slot = .value(try Boxing.box(value, codingPath)) }
    func encode(_ value: Float) throws { slot = .value(try Boxing.box(value, codingPath)) }
    func encode(_ value: Int) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: Int8) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: Int16) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: Int32) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: Int64) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: UInt) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: UInt8) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: UInt16) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: UInt32) throws { slot = .value(Boxing.box(value)) }
    func encode(_ value: UInt64) throws { slot = .value(Boxing.box(value)) }

    /// A wrapper type encodes its wrapped value at this same position and path.
    func encode<T: Encodable>(_ value: T) throws {
        slot = try Boxing.encode(value, parent: parent, component: component)
    }
}
