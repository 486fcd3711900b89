/// The single-value container of a decoder is the decoder itself: the value is already there.
extension ValueDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool { try value.unboxBool(codingPath) }
    func decode(_ type: String.Type) throws -> String { try value.unboxString(codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try value.unboxDouble(codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try value.unboxFloat(codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try value.unboxInteger(type, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try value.unboxInteger(type, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try value.unboxInteger(type, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try value.unboxInteger(type, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try value.unboxInteger(type, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try value.unboxInteger(type, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try value.unboxInteger(type, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try value.unboxInteger(type, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try value.unboxInteger(type, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try value.unboxInteger(type, codingPath) }

    /// A type that wraps another (`struct Digest { let text: String }` with a single-value
    /// conformance) decodes from this same value and path.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try Unboxing.decode(type, from: value, parent: parent, component: component)
    }
}
