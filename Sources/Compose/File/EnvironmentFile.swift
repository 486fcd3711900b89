import BerthErrors
import FileSystem

/// `KEY=VALUE` files as Compose reads them: the `.env` beside a Compose file (for `${VAR}`s)
/// and a service's `env_file`s. Blank lines and `#` comments are skipped, `export ` before a
/// key is allowed, and a value in single or double quotes loses them (double quotes also take
/// `\n` and `\"`); a line with only a key is a variable set to nothing.
enum EnvironmentFile {
    static func read(_ path: String) throws(BerthError) -> [(String, String)] {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            throw BerthError(.notFound, "cannot read the environment file \(path): \(error)")
        }
        return try parse(String(decoding: bytes, as: UTF8.self), file: path)
    }

    static func parse(_ text: String, file: String) throws(BerthError) -> [(String, String)] {
        var result: [(String, String)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).trimmingWhitespace() }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0].trimmingWhitespace()
            guard !key.isEmpty, !key.contains(" ") else {
                throw BerthError(.invalidArgument, "\(file):\(index + 1): \"\(line)\" is not KEY=VALUE")
            }
            result.append((String(key), parts.count > 1 ? unquote(parts[1].trimmingWhitespace()) : ""))
        }
        return result
    }

    private static func unquote(_ value: Substring) -> String {
        if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") { return String(value.dropFirst().dropLast()) }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            var out = ""
            var escaped = false
            for c in value.dropFirst().dropLast() {
                if escaped {
                    out.append(c == "n" ? "\n" : c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else {
                    out.append(c)
                }
            }
            return out
        }
        // An unquoted value ends at a " #" comment.
        if let comment = value.firstRange(of: " #") { return value[..<comment.lowerBound].trimmingWhitespaceString() }
        return String(value)
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }

    func trimmingWhitespaceString() -> String { String(trimmingWhitespace()) }
}

extension String {
    /// Splits a command written as one string into words as a shell would (quotes and
    /// backslashes; no expansions), as Compose does for `command: echo "a b"`.
    static func shellWords(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in text {
            if escaped {
                current.append(c)
                escaped = false
            } else if let q = quote {
                if c == q { quote = nil } else if c == "\\" && q == "\"" { escaped = true } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == "\\" {
                escaped = true
                inWord = true
            } else if c == " " || c == "\t" || c == "\n" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { return nil }
        if inWord { words.append(current) }
        return words
    }
}
