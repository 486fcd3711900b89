/// The `Decoder` for one JSON value. It is also a node of the coding path: it knows its parent
/// decoder and its key or index there, so nesting costs one allocation and no path arrays.
///
/// It doubles as its own single-value container (ValueDecoder+SingleValue.swift), as
/// Foundation's decoder does, so `singleValueContainer()` allocates nothing.
final class ValueDecoder: Decoder, CodingPathNode {
    let value: JSONValue
    let parent: ValueDecoder?
    let component: PathComponent?

    init(value: JSONValue, parent: ValueDecoder?, component: PathComponent?) {
        self.value = value
        self.parent = parent
        self.component = component
    }

    var codingPath: [any CodingKey] {
        ValueDecoder.codingPath(parent: parent, component: component)
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingFailure.typeMismatch([String: JSONValue].self, expected: "an object", found: value, path: codingPath)
        }
        return KeyedDecodingContainer(ObjectDecodingContainer<Key>(decoder: self, members: members))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingFailure.typeMismatch([JSONValue].self, expected: "an array", found: value, path: codingPath)
        }
        return ArrayDecodingContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        self
    }
}
