/// A recursive-descent parser over UTF-8 bytes (RFC 8259), straight into `JSONValue`.
///
/// It reads from an `UnsafeBufferPointer` so the hot loops are plain loads without bounds
/// checks in release builds; every index is checked against `input.count` by hand instead.
/// Strings and numbers live in Parser+Strings.swift and Parser+Numbers.swift.
struct Parser {
    let input: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0

    static func parse(_ input: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var parser = Parser(input: input)
        parser.skipByteOrderMark()
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == input.count else {
            throw parser.error("unexpected data after the JSON value")
        }
        return value
    }

    /// The byte at the current position, or 0 at the end. NUL never starts a valid token, so
    /// callers can switch on it without a separate end check.
    var current: UInt8 {
        position < input.count ? input[position] : 0
    }

    var isAtEnd: Bool { position >= input.count }

    /// RFC 8259 forbids writing a byte order mark but lets readers ignore one, and tools on
    /// some systems add it.
    mutating func skipByteOrderMark() {
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF {
            position = 3
        }
    }

    mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONError) -> JSONValue {
        switch current {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        default: throw error("expected a value")
        }
    }

    mutating func parseObject() throws(JSONError) -> JSONValue {
        try enterNesting()
        defer { depth -= 1 }
        position += 1  // '{'
        skipWhitespace()
        var members: [(key: String, value: JSONValue)] = []
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            guard current == UInt8(ascii: "\"") else {
                if !members.isEmpty && current == UInt8(ascii: "}") {
                    throw error("expected an object member after ',' (trailing commas are not allowed)")
                }
                throw error(members.isEmpty ? "expected a string key or '}'" : "expected a string key after ','")
            }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after an object key") }
            position += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default:
                throw error("expected ',' or '}' after an object member")
            }
        }
    }

    mutating func parseArray() throws(JSONError) -> JSONValue {
        try enterNesting()
        defer { depth -= 1 }
        position += 1  // '['
        skipWhitespace()
        var elements: [JSONValue] = []
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            if !elements.isEmpty && current == UInt8(ascii: "]") {
                throw error("expected a value after ',' (trailing commas are not allowed)")
            }
            elements.append(try parseValue())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            default:
                throw error("expected ',' or ']' after an array element")
            }
        }
    }

    mutating func enterNesting() throws(JSONError) {
        depth += 1
        guard depth <= JSON.maximumDepth else {
            throw error("arrays and objects nested deeper than \(JSON.maximumDepth) levels")
        }
    }

    mutating func parseLiteral(_ literal: StaticString, _ value: JSONValue) throws(JSONError) -> JSONValue {
        let start = position
        let matches = literal.withUTF8Buffer { word in
            guard input.count - start >= word.count else { return false }
            for i in 0..<word.count where input[start + i] != word[i] { return false }
            return true
        }
        guard matches else { throw error("expected '\(literal)'") }
        position += literal.utf8CodeUnitCount
        return value
    }

    /// A syntax error at `offset` (the current position by default). At the end of the input the
    /// message says so, since the column alone would point past the last character.
    func error(_ message: String, at offset: Int? = nil) -> JSONError {
        let offset = offset ?? position
        let text = offset >= input.count ? "\(message), found the end of the input" : message
        return JSONError(kind: .syntax, message: text, location: TextPosition.locate(offset, in: input))
    }
}
