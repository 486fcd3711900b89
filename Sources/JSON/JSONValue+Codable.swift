/// `JSONValue` is itself Codable, so a model can keep a part of a document it does not model
/// (an extension field, an arbitrary annotation payload) and write it back unchanged.
///
/// With this module's coder the value is taken or stored whole (see `Unboxing` and `Boxing`),
/// keeping member order and duplicates. The conformance below is for other coders, which can
/// only offer what their containers expose: object keys come back in whatever order they list.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        // A custom `init(from:)` that hands its decoder straight to `JSONValue(from:)` bypasses
        // `Unboxing`; take the value whole here too (one class cast, off the hot path).
        if let decoder = decoder as? ValueDecoder {
            self = decoder.value
            return
        }
        if let object = try? decoder.container(keyedBy: StringKey.self) {
            self = .object(try object.allKeys.map { key in (key.stringValue, try object.decode(JSONValue.self, forKey: key)) })
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !array.isAtEnd {
                elements.append(try array.decode(JSONValue.self))
            }
            self = .array(elements)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int64.self) {
            self = .number(JSONNumber(value))
        } else if let value = try? single.decode(UInt64.self) {
            self = .number(JSONNumber(value))
        } else if let value = try? single.decode(Double.self), let number = JSONNumber(value) {
            self = .number(number)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .number(let number):
            var single = encoder.singleValueContainer()
            switch number.storage {
            case .signed(let value): try single.encode(value)
            case .unsigned(let value): try single.encode(value)
            // Other coders have no exact form for integers beyond 64 bits: the nearest Double.
            case .wideInteger: try single.encode(number.double)
            case .double(let value): try single.encode(value)
            }
        case .string(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .array(let elements):
            var array = encoder.unkeyedContainer()
            for element in elements {
                try array.encode(element)
            }
        case .object(let members):
            var object = encoder.container(keyedBy: StringKey.self)
            for member in members {
                try object.encode(member.value, forKey: StringKey(member.key))
            }
        }
    }
}
