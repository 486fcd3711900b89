/// Reading Swift values out of `JSONValue`s: the primitives every container shares, and the
/// one generic entry point every container calls for a nested value.
///
/// The coding path comes in as an autoclosure, so on success no path is built at all.
extension JSONValue {
    func unboxBool(_ path: @autoclosure () -> [any CodingKey]) throws -> Bool {
        if case .bool(let value) = self { return value }
        throw DecodingFailure.typeMismatch(Bool.self, expected: "a boolean", found: self, path: path())
    }

    func unboxString(_ path: @autoclosure () -> [any CodingKey]) throws -> String {
        if case .string(let value) = self { return value }
        throw DecodingFailure.typeMismatch(String.self, expected: "a string", found: self, path: path())
    }

    func unboxInteger<T: FixedWidthInteger>(_ type: T.Type, _ path: @autoclosure () -> [any CodingKey]) throws -> T {
        guard case .number(let number) = self else {
            throw DecodingFailure.typeMismatch(T.self, expected: "a number", found: self, path: path())
        }
        if let value = number.integer(as: T.self) { return value }
        throw DecodingFailure.numberMismatch(T.self, number, path: path())
    }

    func unboxDouble(_ path: @autoclosure () -> [any CodingKey]) throws -> Double {
        if case .number(let number) = self { return number.double }
        throw DecodingFailure.typeMismatch(Double.self, expected: "a number", found: self, path: path())
    }

    func unboxFloat(_ path: @autoclosure () -> [any CodingKey]) throws -> Float {
        guard case .number(let number) = self else {
            throw DecodingFailure.typeMismatch(Float.self, expected: "a number", found: self, path: path())
        }
        let value = Float(number.double)
        if value.isFinite { return value }
        throw DecodingFailure.numberMismatch(Float.self, number, path: path())
    }

    func unboxStrings(_ path: @autoclosure () -> [any CodingKey]) throws -> [String] {
        guard case .array(let elements) = self else {
            throw DecodingFailure.typeMismatch([String].self, expected: "an array", found: self, path: path())
        }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .string(let string) = element else {
                throw DecodingFailure.typeMismatch(String.self, expected: "a string", found: element,
                                                   path: path() + [IndexKey(index)])
            }
            strings.append(string)
        }
        return strings
    }
}

enum Unboxing {
    /// Decodes a `T` from `value`, which sits at `component` below `parent` (both nil at the top).
    ///
    /// The common leaf types are read directly, without a decoder: comparing metatypes is a
    /// pointer comparison, where the general path allocates a decoder and goes through
    /// `T(from:)` and a single-value container. `[String]` is here because args, env, mount
    /// options and capabilities make up much of an OCI config. No `as?` casts: conformance
    /// lookups are slow in large static binaries.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, parent: ValueDecoder?,
                                     component: PathComponent?) throws -> T {
        func path() -> [any CodingKey] { ValueDecoder.codingPath(parent: parent, component: component) }
        // Each unsafeBitCast below converts a value to the type it already is: the metatype
        // check before it guarantees that T is exactly that type.
        if T.self == String.self { return unsafeBitCast(try value.unboxString(path()), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try value.unboxInteger(Int.self, path()), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try value.unboxBool(path()), to: T.self) }
        if T.self == [String].self { return unsafeBitCast(try value.unboxStrings(path()), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try value.unboxInteger(Int64.self, path()), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try value.unboxInteger(UInt64.self, path()), to: T.self) }
        if T.self == UInt32.self { return unsafeBitCast(try value.unboxInteger(UInt32.self, path()), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try value.unboxInteger(Int32.self, path()), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try value.unboxDouble(path()), to: T.self) }
        if T.self == JSONValue.self { return unsafeBitCast(value, to: T.self) }
        do {
            return try T(from: ValueDecoder(value: value, parent: parent, component: component))
        } catch {
            // A type's own error (a digest that fails validation) learns where it happened.
            throw JSONError.thrownByType(error, at: path())
        }
    }
}
