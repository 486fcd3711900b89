/// The unkeyed container over a JSON array's elements. A failed decode leaves `currentIndex`
/// where it was, so a caller may retry the element as another type.
struct ArrayDecodingContainer: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let elements: [JSONValue]
    private(set) var currentIndex = 0

    init(decoder: ValueDecoder, elements: [JSONValue]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private func current(_ type: Any.Type) throws -> JSONValue {
        guard currentIndex < elements.count else {
            throw DecodingFailure.endOfArray(type, count: elements.count, path: path())
        }
        return elements[currentIndex]
    }

    private func path() -> [any CodingKey] {
        decoder.codingPath(appending: .index(currentIndex))
    }

    /// Moves past the current element, once `value` has been read from it without error.
    private mutating func advance<T>(_ value: T) -> T {
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard try current(Never.self).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try advance(current(type).unboxBool(path())) }
    mutating func decode(_ type: String.Type) throws -> String { try advance(current(type).unboxString(path())) }
    mutating func decode(_ type: Double.Type) throws -> Double { try advance(current(type).unboxDouble(path())) }
    mutating func decode(_ type: Float.Type) throws -> Float { try advance(current(type).unboxFloat(path())) }
    mutating func decode(_ type: Int.Type) throws -> Int { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try advance(current(type).unboxInteger(type, path())) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try advance(current(type).unboxInteger(type, path())) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try advance(Unboxing.decode(type, from: current(type), parent: decoder, component: .index(currentIndex)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try advance(elementDecoder().container(keyedBy: type))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try advance(elementDecoder().unkeyedContainer())
    }

    mutating func superDecoder() throws -> any Decoder {
        try advance(elementDecoder())
    }

    private func elementDecoder() throws -> ValueDecoder {
        ValueDecoder(value: try current(JSONValue.self), parent: decoder, component: .index(currentIndex))
    }
}
