/// Turns a byte offset into the line and column a person looks for in an editor. Only done
/// when an error is thrown, so the parser never counts lines on the happy path.
enum TextPosition {
    static func locate(_ offset: Int, in input: UnsafeBufferPointer<UInt8>) -> JSONError.Location {
        var line = 1
        var column = 1
        for byte in input.prefix(min(offset, input.count)) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // UTF-8 continuation bytes belong to the character before them.
                column += 1
            }
        }
        return JSONError.Location(offset: offset, line: line, column: column)
    }
}
