/// String tokens: the fast path copies an escape-free string straight out of the input; the
/// slow path, taken at the first backslash, builds the bytes one escape at a time.
extension Parser {
    /// Parses a string token; `position` is at its opening quote.
    mutating func parseString() throws(JSONError) -> String {
        position += 1
        let contentStart = position
        var isASCII = true
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeBufferPointer(rebasing: input[contentStart..<position])
                position += 1
                // ASCII cannot be malformed UTF-8, so only other strings pay for validation.
                return isASCII ? String(decoding: content, as: UTF8.self) : try validated(content, at: contentStart)
            }
            if byte == UInt8(ascii: "\\") {
                return try parseEscapedString(from: contentStart)
            }
            if byte < 0x20 {
                throw controlCharacterError(byte)
            }
            if byte >= 0x80 {
                isASCII = false
            }
            position += 1
        }
        throw error("expected '\"' to end the string")
    }

    /// The rest of a string that contains escapes; `position` is at the first backslash.
    private mutating func parseEscapedString(from contentStart: Int) throws(JSONError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(position - contentStart + 16)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[contentStart..<position]))
        while position < input.count {
            let byte = input[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                if let string = bytes.withUnsafeBufferPointer(Self.string(validating:)) {
                    return string
                }
                // Escapes are ASCII, so the raw input is invalid exactly where the result is.
                let raw = UnsafeBufferPointer(rebasing: input[contentStart..<(position - 1)])
                throw invalidUTF8Error(in: raw, at: contentStart)
            case UInt8(ascii: "\\"):
                try appendEscape(to: &bytes)
            case 0..<0x20:
                throw controlCharacterError(byte)
            default:
                bytes.append(byte)
                position += 1
            }
        }
        throw error("expected '\"' to end the string")
    }

    /// Decodes one escape sequence; `position` is at its backslash.
    private mutating func appendEscape(to bytes: inout [UInt8]) throws(JSONError) {
        let escapeStart = position
        position += 1
        let unescaped: UInt8
        switch current {
        case UInt8(ascii: "\""): unescaped = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): unescaped = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): unescaped = UInt8(ascii: "/")
        case UInt8(ascii: "b"): unescaped = 0x08
        case UInt8(ascii: "f"): unescaped = 0x0C
        case UInt8(ascii: "n"): unescaped = 0x0A
        case UInt8(ascii: "r"): unescaped = 0x0D
        case UInt8(ascii: "t"): unescaped = 0x09
        case UInt8(ascii: "u"):
            position += 1
            let scalar = try parseUnicodeEscape(escapeStart: escapeStart)
            bytes.append(contentsOf: UTF8.encode(scalar).unsafelyUnwrapped)
            return
        default:
            if isAtEnd { throw error("expected an escape character after '\\'") }
            throw error("invalid escape sequence: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", at: escapeStart)
        }
        bytes.append(unescaped)
        position += 1
    }

    /// `\uXXXX`, or a UTF-16 surrogate pair `\uD83D\uDE00` for characters beyond the BMP.
    /// `position` is just after the first `u`. A lone surrogate names no character and is an
    /// error: it would have to become U+FFFD, silently changing the text.
    private mutating func parseUnicodeEscape(escapeStart: Int) throws(JSONError) -> Unicode.Scalar {
        let first = try parseHexQuad()
        switch first {
        case 0xD800...0xDBFF:
            let secondStart = position
            guard current == UInt8(ascii: "\\"), position + 1 < input.count, input[position + 1] == UInt8(ascii: "u") else {
                throw error("lone high surrogate \\u\(hex(first)): expected a low surrogate \\uDC00-\\uDFFF after it",
                            at: escapeStart)
            }
            position += 2
            let second = try parseHexQuad()
            guard (0xDC00...0xDFFF).contains(second) else {
                throw error("lone high surrogate \\u\(hex(first)): expected a low surrogate \\uDC00-\\uDFFF after it, "
                            + "found \\u\(hex(second))", at: secondStart)
            }
            let value = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            return Unicode.Scalar(value).unsafelyUnwrapped
        case 0xDC00...0xDFFF:
            throw error("lone low surrogate \\u\(hex(first)): it must follow a high surrogate \\uD800-\\uDBFF",
                        at: escapeStart)
        default:
            return Unicode.Scalar(first).unsafelyUnwrapped
        }
    }

    private mutating func parseHexQuad() throws(JSONError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            let digit: UInt8
            switch current {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = current - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = current - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = current - UInt8(ascii: "A") + 10
            default: throw error("expected four hexadecimal digits after '\\u'")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    private func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// Only for content with a byte above ASCII (`parseString` takes ASCII straight).
    private func validated(_ content: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONError) -> String {
        if let string = String(validating: content, as: UTF8.self) {
            return string
        }
        throw invalidUTF8Error(in: content, at: offset)
    }

    /// An escaped string's bytes as a string when they are valid UTF-8. ASCII first: most are,
    /// and `String(validating:as:)`, generic over the encoding, looks its types up by name at its
    /// first use (on the start path, in every process).
    private static func string(validating bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    private func invalidUTF8Error(in content: UnsafeBufferPointer<UInt8>, at offset: Int) -> JSONError {
        let bad = UTF8Validation.firstInvalidOffset(in: content) ?? 0
        let byte = content[bad]
        return error("invalid UTF-8 in a string (byte 0x\(String(byte, radix: 16, uppercase: true)))", at: offset + bad)
    }

    private func controlCharacterError(_ byte: UInt8) -> JSONError {
        let code = String(byte, radix: 16, uppercase: true)
        return error("control character U+\(code.count == 1 ? "000" : "00")\(code) must be escaped in a string")
    }
}
