/// Finds the first byte that is not part of well-formed UTF-8, so an invalid string can be
/// reported at the exact byte. Only called after the fast check (`String(validating:)`) failed.
enum UTF8Validation {
    static func firstInvalidOffset(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
