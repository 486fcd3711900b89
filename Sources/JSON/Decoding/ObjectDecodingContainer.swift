/// The keyed container over a JSON object's members.
///
/// Lookups search the member list from the end, so a duplicated key finds its last value. That
/// is a linear scan, which for the small objects of configs and manifests beats hashing; an
/// object with many members (a big `[String: T]`) gets a dictionary index instead, so decoding
/// it stays linear overall.
struct ObjectDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// Objects up to this many members are scanned; larger ones are indexed once.
    static var scanLimit: Int { 16 }

    let decoder: ValueDecoder
    let members: [(key: String, value: JSONValue)]
    /// Member positions by key (the last position of a duplicated key), for large objects only.
    let index: [String: Int]?

    init(decoder: ValueDecoder, members: [(key: String, value: JSONValue)]) {
        self.decoder = decoder
        self.members = members
        if members.count > Self.scanLimit {
            var index: [String: Int] = [:]
            index.reserveCapacity(members.count)
            for (position, member) in members.enumerated() {
                index[member.key] = position
            }
            self.index = index
        } else {
            self.index = nil
        }
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    /// Each distinct key once, in the order of first appearance.
    var allKeys: [Key] {
        var keys: [Key] = []
        keys.reserveCapacity(members.count)
        var seen: Set<String> = []
        let hasDuplicates = index.map { $0.count != members.count } ?? true
        for member in members {
            if hasDuplicates {
                guard seen.insert(member.key).inserted else { continue }
            }
            if let key = Key(stringValue: member.key) { keys.append(key) }
        }
        return keys
    }

    func contains(_ key: Key) -> Bool {
        lookup(key) != nil
    }

    private func lookup(_ key: Key) -> JSONValue? {
        let name = key.stringValue
        if let index {
            return index[name].map { members[$0].value }
        }
        var position = members.count
        while position > 0 {
            position -= 1
            if members[position].key == name { return members[position].value }
        }
        return nil
    }

    private func require(_ key: Key) throws -> JSONValue {
        guard let value = lookup(key) else {
            throw DecodingFailure.keyNotFound(key, path: codingPath)
        }
        return value
    }

    /// The value for `key` unless it is absent or null: what `decodeIfPresent` means.
    private func optional(_ key: Key) -> JSONValue? {
        guard let value = lookup(key), !value.isNull else { return nil }
        return value
    }

    private func path(_ key: Key) -> [any CodingKey] {
        decoder.codingPath(appending: .key(key))
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        try require(key).isNull
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try require(key).unboxBool(path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try require(key).unboxString(path(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try require(key).unboxDouble(path(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try require(key).unboxFloat(path(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try require(key).unboxInteger(type, path(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try require(key).unboxInteger(type, path(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try Unboxing.decode(type, from: require(key), parent: decoder, component: .key(key))
    }

    // The standard library's default decodeIfPresent looks the key up three times (contains,
    // decodeNil, decode); these look it up once. Absent and null both mean nil.

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(key)?.unboxBool(path(key)) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(key)?.unboxString(path(key)) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(key)?.unboxDouble(path(key)) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(key)?.unboxFloat(path(key)) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(key)?.unboxInteger(type, path(key)) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(key)?.unboxInteger(type, path(key)) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = optional(key) else { return nil }
        return try Unboxing.decode(type, from: value, parent: decoder, component: .key(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: require(key), parent: decoder, component: .key(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: require(key), parent: decoder, component: .key(key)).unkeyedContainer()
    }

    /// The decoder for the value under "super" (null when absent), per the Codable convention
    /// for a superclass's members.
    func superDecoder() throws -> any Decoder {
        let key = StringKey("super")
        let value = members.last(where: { $0.key == key.stringValue })?.value ?? .null
        return ValueDecoder(value: value, parent: decoder, component: .key(key))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: lookup(key) ?? .null, parent: decoder, component: .key(key))
    }
}
