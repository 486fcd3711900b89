#if canImport(Glibc)
import Glibc
#endif

/// Command-line arguments and environment values as the bytes the kernel passes, carried in
/// Swift strings (and in launch.json, whose JSON strings must be Unicode) without losing any.
///
/// Linux hands a program bytes, not text: `ls $'/tmp/\xff'` names a file whose name is not
/// UTF-8. Swift's `CommandLine.arguments` and `String(cString:)` replace such bytes with U+FFFD,
/// so the container would get another name. Instead, each byte that is not part of valid UTF-8
/// stands for itself as one of 128 private-use scalars, U+10FE80 to U+10FEFF (byte 0x80 to
/// 0xFF), and turns back into that byte where the arguments reach execve. Valid UTF-8 stays
/// as it is, so a string of text is unchanged. A valid UTF-8 sequence that spells one of those
/// 128 scalars is itself escaped byte by byte, so every byte sequence comes back exactly
/// (Python's "surrogateescape" works the same way, with lone surrogates Swift cannot hold).
public enum ArgumentBytes {
    /// The scalar that stands for byte 0x00 (only 0x80 to 0xFF are ever used).
    static let escapeBase: UInt32 = 0x10FE00
    static let escapes: ClosedRange<UInt32> = 0x10FE80...0x10FEFF

    /// The program's arguments after its name, each byte kept (`CommandLine.arguments` repairs them).
    public static func commandLineArguments() -> [String] {
        (1..<Int(CommandLine.argc)).map { index in
            CommandLine.unsafeArgv[index].map { string(cString: $0) } ?? ""
        }
    }

    /// The value of the caller's environment variable `name`, each byte kept; nil when unset.
    public static func environmentValue(_ name: String) -> String? {
        let cName = bytes(name).map { CChar(bitPattern: $0) } + [0]
        return getenv(cName).map { string(cString: $0) }
    }

    public static func string(cString: UnsafePointer<CChar>) -> String {
        string(UnsafeBufferPointer(start: UnsafeRawPointer(cString).assumingMemoryBound(to: UInt8.self),
                                   count: strlen(cString)))
    }

    /// `bytes` as a string: valid UTF-8 as it is, every other byte as its escape scalar.
    public static func string(_ bytes: some Collection<UInt8>) -> String {
        let array = Array(bytes)
        // ASCII first: nearly every argument is, and `String(validating:as:)`, generic over the
        // encoding, looks its types up by name at its first use.
        if !array.contains(where: { $0 >= 0x80 }) { return String(decoding: array, as: UTF8.self) }
        // Then other text, with none of the escape scalars in it.
        if let text = String(validating: array, as: UTF8.self),
           !text.unicodeScalars.contains(where: { escapes.contains($0.value) }) {
            return text
        }
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < array.count {
            if let (scalar, length) = validScalar(array, at: index), !escapes.contains(scalar.value) {
                scalars.append(scalar)
                index += length
            } else {
                // A byte that is not valid UTF-8 here, or the first of a valid sequence that
                // spells an escape scalar: escaped alone, the next byte is looked at afresh.
                scalars.append(escape(array[index]))
                index += 1
            }
        }
        return String(scalars)
    }

    /// The bytes `string` stands for: its UTF-8, with each escape scalar turned back into its byte.
    public static func bytes(_ string: String) -> [UInt8] {
        // Every escape scalar's UTF-8 starts with 0xF4; text without that byte is its own UTF-8.
        guard string.utf8.contains(0xF4) else { return Array(string.utf8) }
        var result: [UInt8] = []
        result.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars {
            if escapes.contains(scalar.value) {
                result.append(UInt8(scalar.value - escapeBase))
            } else {
                result.append(contentsOf: String(scalar).utf8)
            }
        }
        return result
    }

    private static func escape(_ byte: UInt8) -> Unicode.Scalar {
        // Bytes below 0x80 are always valid UTF-8, so only 0x80...0xFF get here: in range.
        Unicode.Scalar(escapeBase + UInt32(byte)) ?? "\u{FFFD}"
    }

    /// The scalar a valid, shortest-form UTF-8 sequence at `index` encodes, and its length.
    private static func validScalar(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length: Int
        var lowest: UInt8 = 0x80, highest: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowest = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; highest = 0x9F
        case 0xF0: length = 4; lowest = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; highest = 0x8F
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for offset in 1..<length {
            let byte = bytes[index + offset]
            // The second byte's range rules out overlong forms, surrogates and values past U+10FFFF.
            let (low, high) = offset == 1 ? (lowest, highest) : (UInt8(0x80), UInt8(0xBF))
            guard byte >= low, byte <= high else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return Unicode.Scalar(value).map { ($0, length) }
    }
}
