import BerthErrors

/// Compose's variable substitution in a file's values (never its keys): `$VAR`, `${VAR}`,
/// `${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?message}` and
/// `${VAR?message}` (an error), `${VAR:+other}` and `${VAR+other}`, and `$$` for a `$`.
/// A variable set nowhere becomes "" and is named in a warning, as Docker Compose does.
struct Interpolation {
    let variables: [String: String]
    let file: String
    /// Variables used and set nowhere, in the order first met.
    private(set) var unset: [String] = []

    init(variables: [String: String], file: String) {
        self.variables = variables
        self.file = file
    }

    /// `node` with every scalar value substituted.
    mutating func apply(_ node: YAMLNode, path: String) throws(BerthError) -> YAMLNode {
        var node = node
        switch node.value {
        case .scalar(let text, let plain):
            guard text.contains("$") else { return node }
            node.value = .scalar(try substitute(text, line: node.line, path: path), plain: plain)
        case .sequence(let items):
            var result: [YAMLNode] = []
            for (index, item) in items.enumerated() { result.append(try apply(item, path: "\(path)[\(index)]")) }
            node.value = .sequence(result)
        case .mapping(let entries):
            var result: [(key: String, value: YAMLNode)] = []
            for entry in entries {
                result.append((entry.key, try apply(entry.value, path: path.isEmpty ? entry.key : path + "." + entry.key)))
            }
            node.value = .mapping(result)
        }
        return node
    }

    /// One scalar's text with its variables replaced.
    mutating func substitute(_ text: String, line: Int, path: String) throws(BerthError) -> String {
        let chars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        let file = self.file
        func bad(_ why: String) -> BerthError {
            BerthError(.invalidArgument, "\(file):\(line): \(path): \(why)")
        }
        while i < chars.count {
            guard chars[i] == "$", i + 1 < chars.count else {
                out.append(chars[i])
                i += 1
                continue
            }
            let next = chars[i + 1]
            if next == "$" {
                out.append("$")
                i += 2
            } else if next == "{" {
                // The closing brace of this substitution: nested ${...} in a default count.
                var depth = 1, j = i + 2
                while j < chars.count, depth > 0 {
                    if chars[j] == "{" { depth += 1 } else if chars[j] == "}" { depth -= 1 }
                    if depth > 0 { j += 1 }
                }
                guard j < chars.count else { throw bad("\"${\" without its closing \"}\": write $$ for a literal $") }
                let body = String(String.UnicodeScalarView(chars[(i + 2)..<j]))
                out.append(contentsOf: try expand(body, line: line, path: path, bad: bad).unicodeScalars)
                i = j + 1
            } else if Self.isNameStart(next) {
                var j = i + 1
                while j < chars.count, Self.isNameChar(chars[j]) { j += 1 }
                let name = String(String.UnicodeScalarView(chars[(i + 1)..<j]))
                out.append(contentsOf: value(of: name).unicodeScalars)
                i = j
            } else {
                out.append("$")
                i += 1
            }
        }
        return String(out)
    }

    private mutating func expand(_ body: String, line: Int, path: String,
                                 bad: (String) -> BerthError) throws(BerthError) -> String {
        let scalars = Array(body.unicodeScalars)
        var end = 0
        while end < scalars.count, Self.isNameChar(scalars[end]) { end += 1 }
        let name = String(String.UnicodeScalarView(scalars[0..<end]))
        guard !name.isEmpty, Self.isNameStart(scalars[0]) else { throw bad("\"${\(body)}\" names no variable") }
        if end == scalars.count { return value(of: name) }
        var rest = String(String.UnicodeScalarView(scalars[end...]))
        let colon = rest.hasPrefix(":")
        if colon { rest.removeFirst() }
        guard let op = rest.first, "-?+".contains(op) else {
            throw bad("\"${\(body)}\": after the name, use :-, -, :?, ?, :+ or +")
        }
        let word = try substitute(String(rest.dropFirst()), line: line, path: path)
        let current = variables[name]
        let isSet = colon ? !(current ?? "").isEmpty : current != nil
        switch op {
        case "-": return isSet ? current ?? "" : word
        case "+": return isSet ? word : ""
        default:
            guard isSet else { throw bad("variable \(name) is required: \(word.isEmpty ? "it is not set" : word)") }
            return current ?? ""
        }
    }

    private mutating func value(of name: String) -> String {
        if let value = variables[name] { return value }
        if !unset.contains(name) { unset.append(name) }
        return ""
    }

    static func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.isASCII && c.properties.isAlphabetic) }
    static func isNameChar(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }
}
