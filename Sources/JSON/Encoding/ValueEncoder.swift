/// The `Encoder` for one position in the output, and a node of the coding path (it knows its
/// parent and its key or index there), as `ValueDecoder` is on the other side.
///
/// It doubles as its own single-value container (ValueEncoder+SingleValue.swift).
final class ValueEncoder: Encoder, CodingPathNode {
    let parent: ValueEncoder?
    let component: PathComponent?
    var slot: EncodedSlot = .empty

    init(parent: ValueEncoder?, component: PathComponent?) {
        self.parent = parent
        self.component = component
    }

    var codingPath: [any CodingKey] {
        ValueEncoder.codingPath(parent: parent, component: component)
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Asking twice (a subclass and its superclass sharing one encoder) continues the same object.
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: ObjectBuilder
        if case .object(let existing) = slot {
            object = existing
        } else {
            object = ObjectBuilder(sortsKeys: DictionaryKeyType.isDictionaryKey(Key.self))
            slot = .object(object)
        }
        return KeyedEncodingContainer(ObjectEncodingContainer<Key>(encoder: self, object: object))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: ArrayBuilder
        if case .array(let existing) = slot {
            array = existing
        } else {
            array = ArrayBuilder()
            slot = .array(array)
        }
        return ArrayEncodingContainer(encoder: self, array: array)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        self
    }
}
