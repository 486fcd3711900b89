/// What a name's link in `container-names/` holds: its container's id in base64url, 43
/// characters rather than 64 hex digits. ext4 keeps a symlink's target in the inode itself when it
/// is under 60 bytes, so the link takes no block of its own, and removing it frees none (on a
/// file system mounted with `discard`, every freed block costs a synchronous discard). A hex
/// target, as older state has, is read as it is.
enum NameLinkTarget {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The target for `id`; an id that is not 64 lowercase hex digits is written as it is.
    static func target(of id: String) -> String {
        let digits = Array(id.utf8)
        guard digits.count == 64 else { return id }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for pair in stride(from: 0, to: 64, by: 2) {
            guard let high = hexValue(digits[pair]), let low = hexValue(digits[pair + 1]) else { return id }
            bytes.append(high << 4 | low)
        }
        var text: [UInt8] = []
        text.reserveCapacity(43)
        var bits: UInt32 = 0
        var count = 0
        for byte in bytes {
            bits = bits << 8 | UInt32(byte)
            count += 8
            while count >= 6 {
                count -= 6
                text.append(alphabet[Int(bits >> UInt32(count) & 63)])
            }
        }
        if count > 0 { text.append(alphabet[Int(bits << UInt32(6 - count) & 63)]) }
        return String(decoding: text, as: UTF8.self)
    }

    /// The id a target names: a 43-character base64url target decoded, anything else as it is.
    static func id(from target: String) -> String {
        let text = Array(target.utf8)
        guard text.count == 43 else { return target }
        var digits: [UInt8] = []
        digits.reserveCapacity(64)
        var bits: UInt32 = 0
        var count = 0
        for character in text {
            guard let value = base64Value(character) else { return target }
            bits = bits << 6 | UInt32(value)
            count += 6
            if count >= 8 {
                count -= 8
                let byte = UInt8(truncatingIfNeeded: bits >> UInt32(count))
                digits.append(hexDigits[Int(byte >> 4)])
                digits.append(hexDigits[Int(byte & 15)])
            }
        }
        return String(decoding: digits, as: UTF8.self)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private static func base64Value(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
