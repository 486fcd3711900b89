/// The `DecodingError`s this decoder throws, with messages worded for people: "expected a
/// number, found a string". `JSON.decode` turns them (and those that types throw themselves)
/// into a `JSONError` with the rendered path.
enum DecodingFailure {
    static func typeMismatch(_ type: Any.Type, expected: String, found value: JSONValue,
                             path: [any CodingKey]) -> DecodingError {
        if case .null = value {
            return .valueNotFound(type, .init(codingPath: path, debugDescription: "expected \(expected), found null"))
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(expected), found \(value.kindName)"))
    }

    static func keyNotFound(_ key: any CodingKey, path: [any CodingKey]) -> DecodingError {
        .keyNotFound(key, .init(codingPath: path, debugDescription: "missing required key \(JSONValue.string(key.stringValue))"))
    }

    static func endOfArray(_ type: Any.Type, count: Int, path: [any CodingKey]) -> DecodingError {
        .valueNotFound(type, .init(codingPath: path,
                                   debugDescription: "expected another element, but the array has only \(count)"))
    }

    /// A number that the Swift type cannot hold: 300 for a `UInt8`, 1e300 for a `Float`, or a
    /// fraction where an integer belongs.
    static func numberMismatch(_ type: Any.Type, _ number: JSONNumber, path: [any CodingKey]) -> DecodingError {
        let isWhole = number.isInteger || number.double.rounded(.towardZero) == number.double
        if type == Float.self || isWhole {
            return .dataCorrupted(.init(codingPath: path, debugDescription: "\(number) is out of range for \(type)"))
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "expected an integer, found \(number)"))
    }
}

extension JSONValue {
    /// "a string", "an object", …: the kind of value, for error messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
