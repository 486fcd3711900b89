/// Recognises the keyed containers that Swift dictionaries encode through, so their keys can be
/// sorted: a dictionary's iteration order changes from run to run, and berth's output (image
/// configs whose digests are their bytes) must not.
///
/// The standard library encodes `[String: V]` (and `[Int: V]`, and dictionaries keyed by
/// `CodingKeyRepresentable` types) through a container keyed by its internal
/// `_DictionaryCodingKey`. That type cannot be named here, so it is learned once, by encoding an
/// empty dictionary through a recording encoder; afterwards recognising it is one pointer
/// comparison per container, where the alternative (an `as?` cast to a marker protocol per
/// value) is a conformance lookup.
enum DictionaryKeyType {
    static func isDictionaryKey<Key: CodingKey>(_ type: Key.Type) -> Bool {
        ObjectIdentifier(type) == recorded
    }

    private static let recorded: ObjectIdentifier? = {
        let recorder = KeyTypeRecorder()
        try? [String: Int]().encode(to: recorder)
        return recorder.keyType
    }()
}

/// An encoder that only notes the key type of the first keyed container asked of it.
private final class KeyTypeRecorder: Encoder {
    var keyType: ObjectIdentifier?
    let codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// Where anything encoded goes; it is thrown away.
    private let sink = ValueEncoder(parent: nil, component: nil)

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        keyType = keyType ?? ObjectIdentifier(type)
        return KeyedEncodingContainer(ObjectEncodingContainer<Key>(encoder: sink, object: ObjectBuilder(sortsKeys: false)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        ArrayEncodingContainer(encoder: sink, array: ArrayBuilder())
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        sink
    }
}
