/// Numbers exactly as stored: integers digit by digit (no intermediate `String`), doubles in
/// the shortest text that reads back to the same bits. `JSONNumber` cannot hold NaN or an
/// infinity, so nothing here can produce `nan` or `inf`.
extension Serializer {
    mutating func write(_ number: JSONNumber) {
        switch number.storage {
        case .signed(let value):
            if value < 0 {
                output.append(UInt8(ascii: "-"))
            }
            writeDigits(value.magnitude)
        case .unsigned(let value):
            writeDigits(value)
        case .wideInteger(let text):
            output.append(contentsOf: text.utf8)
        case .double(let value):
            // Swift's description is the shortest round-trip form and always valid JSON for
            // finite values: "0.1", "100.0", "1e-07", "1.7976931348623157e+308".
            output.append(contentsOf: value.description.utf8)
        }
    }

    private mutating func writeDigits(_ value: UInt64) {
        // 20 digits hold UInt64.max; fill from the right, then copy the used tail.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            var remaining = value
            repeat {
                count += 1
                buffer[24 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining != 0
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }
}
