/// A registry's `WWW-Authenticate` challenge: `Basic realm="…"` or
/// `Bearer realm="https://auth…/token",service="registry",scope="repository:me/app:pull"`, the
/// token flow of the distribution spec. Parameters are a comma-separated list of `key=value` or
/// `key="quoted value"` (with `\"` escapes).
public struct AuthChallenge: Sendable, Equatable {
    public enum Scheme: Sendable, Equatable { case basic, bearer }

    public let scheme: Scheme
    /// Lowercased keys.
    public let parameters: [String: String]

    public var realm: String? { parameters["realm"] }

    /// The challenge in a header value, or nil when it is neither Basic nor Bearer.
    public static func parse(_ header: String) -> AuthChallenge? {
        let trimmed = header.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " ") ?? (trimmed.isEmpty ? nil : trimmed.endIndex) else { return nil }
        let scheme: Scheme
        switch trimmed[..<space].lowercased() {
        case "basic": scheme = .basic
        case "bearer": scheme = .bearer
        default: return nil
        }
        return AuthChallenge(scheme: scheme, parameters: parseParameters(trimmed[space...]))
    }

    static func parseParameters(_ text: Substring) -> [String: String] {
        var parameters: [String: String] = [:]
        var chars = Array(text)
        chars.append(",")
        var i = 0
        // One key=value per turn; a bounded walk over the characters (each turn moves i on).
        while i < chars.count {
            while i < chars.count, chars[i] == " " || chars[i] == "," { i += 1 }
            var key = ""
            while i < chars.count, chars[i] != "=", chars[i] != "," { key.append(chars[i]); i += 1 }
            guard i < chars.count, chars[i] == "=" else { continue }
            i += 1
            var value = ""
            if i < chars.count, chars[i] == "\"" {
                i += 1
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                    value.append(chars[i])
                    i += 1
                }
                i += 1
            } else {
                while i < chars.count, chars[i] != "," { value.append(chars[i]); i += 1 }
                value = String(value.reversed().drop { $0 == " " }.reversed())
            }
            let name = key.trimmingSpaces().lowercased()
            if !name.isEmpty { parameters[name] = value }
        }
        return parameters
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
