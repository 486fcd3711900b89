/// A user name and password for one registry. Never printed: `description` hides the password.
public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    public let username: String
    public let password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "\(username):<hidden>" }

    var basicAuthorization: String { "Basic " + base64(Array("\(username):\(password)".utf8)) }
}

/// Standard base64 with padding (RFC 4648).
func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i < bytes.count {
        let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
        out.append(alphabet[Int(b0 >> 2)])
        out.append(alphabet[Int((b0 & 0x3) << 4 | b1 >> 4)])
        out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0xf) << 2 | b2 >> 6)] : UInt8(ascii: "="))
        out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
        i += 3
    }
    return String(decoding: out, as: UTF8.self)
}

/// Standard base64 decoded, nil when it is not base64 (Docker's config.json `auth` entries).
func base64Decoded(_ text: String) -> [UInt8]? {
    var values: [UInt8] = []
    for c in text.utf8 where c != UInt8(ascii: "=") {
        switch c {
        case 65...90: values.append(c - 65)
        case 97...122: values.append(c - 71)
        case 48...57: values.append(c + 4)
        case UInt8(ascii: "+"): values.append(62)
        case UInt8(ascii: "/"): values.append(63)
        default: return nil
        }
    }
    var out: [UInt8] = []
    var i = 0
    while i + 1 < values.count {
        out.append(values[i] << 2 | values[i + 1] >> 4)
        if i + 2 < values.count { out.append(values[i + 1] << 4 | values[i + 2] >> 2) }
        if i + 3 < values.count { out.append(values[i + 2] << 6 | values[i + 3]) }
        i += 4
    }
    return out
}
