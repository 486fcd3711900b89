/// Number tokens, by the RFC 8259 grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
///
/// Integers (the sizes, ids and limits berth reads) are accumulated digit by digit into a
/// `UInt64` and never touch floating point; only numbers with a fraction or exponent go through
/// the standard library's correctly rounded conversion. Integers beyond 64 bits keep their text.
extension Parser {
    /// Parses a number token; `position` is at its first character ('-' or a digit).
    mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = position
        let negative = current == UInt8(ascii: "-")
        if negative {
            position += 1
        }
        guard isDigit(current) else { throw error("expected a digit after '-'") }

        var magnitude: UInt64 = 0
        var overflowed = false
        if current == UInt8(ascii: "0") {
            position += 1
            if isDigit(current) { throw error("leading zeros are not allowed in numbers", at: start) }
        } else {
            while isDigit(current) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(current - UInt8(ascii: "0")))
                magnitude = sum
                overflowed = overflowed || o1 || o2
                position += 1
            }
        }

        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard isDigit(current) else { throw error("expected a digit after the decimal point") }
            while isDigit(current) { position += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") {
                position += 1
            }
            guard isDigit(current) else { throw error("expected a digit in the exponent") }
            while isDigit(current) { position += 1 }
        }

        if isInteger && !overflowed {
            if !negative {
                return magnitude <= UInt64(Int64.max)
                    ? JSONNumber(storage: .signed(Int64(magnitude)))
                    : JSONNumber(storage: .unsigned(magnitude))
            }
            if magnitude <= UInt64(Int64.max) + 1 {
                // Two's complement negation also gets Int64.min (magnitude 2^63) right.
                return JSONNumber(storage: .signed(Int64(bitPattern: 0 &- magnitude)))
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number \(text) is too large for a 64-bit floating-point value", at: start)
        }
        // An integer beyond 64 bits keeps its text, so no 64-bit type takes it rounded into range.
        return JSONNumber(storage: isInteger ? .wideInteger(text) : .double(value))
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }
}
