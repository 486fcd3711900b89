import FileSystem

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
func base64(_ bytes: [UInt8]) -> String { Base64.encode(bytes) }

/// Standard base64 decoded, nil when it is not base64 (Docker's config.json `auth` entries).
func base64Decoded(_ text: String) -> [UInt8]? { Base64.decode(text) }
