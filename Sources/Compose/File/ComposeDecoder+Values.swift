import BerthErrors
import Containers

/// The typed readers every part of the decoder uses: each one either returns the value or
/// throws an error naming the file, the line and the key.
extension ComposeDecoder {
    func failure(_ node: YAMLNode, _ path: String, _ what: String) -> BerthError {
        BerthError(.invalidArgument, "\(file):\(node.line): \(path) \(what)")
    }

    /// A mapping's entries; keys not in `known` (nor `x-` extensions) are recorded as ignored.
    mutating func fields(_ node: YAMLNode, _ path: String, known: [String]) throws(BerthError) -> [String: YAMLNode] {
        guard let entries = node.mapping else { throw failure(node, path, "must be a mapping") }
        var result: [String: YAMLNode] = [:]
        for (key, value) in entries {
            if known.contains(key) {
                result[key] = value
            } else if !key.hasPrefix("x-") {
                ignored.append(path.isEmpty ? key : path + "." + key)
            }
        }
        return result
    }

    /// A mapping's entries in order, every key allowed (names of services, networks, volumes).
    func entries(_ node: YAMLNode, _ path: String) throws(BerthError) -> [(key: String, value: YAMLNode)] {
        if node.isNull { return [] }
        guard let entries = node.mapping else { throw failure(node, path, "must be a mapping") }
        return entries
    }

    func string(_ node: YAMLNode, _ path: String) throws(BerthError) -> String {
        guard let text = node.scalar, !node.isNull else { throw failure(node, path, "must be a string") }
        return text
    }

    func int(_ node: YAMLNode, _ path: String, atLeast minimum: Int = 0, atMost maximum: Int = Int.max) throws(BerthError) -> Int {
        guard let text = node.scalar, let value = Int(text) else { throw failure(node, path, "must be a whole number") }
        guard value >= minimum, value <= maximum else {
            throw failure(node, path, "must be between \(minimum) and \(maximum) (got \(value))")
        }
        return value
    }

    /// YAML 1.1's booleans, which Compose files use (`yes`, `on` too).
    func bool(_ node: YAMLNode, _ path: String) throws(BerthError) -> Bool {
        switch node.scalar?.lowercased() {
        case "true", "yes", "on", "y": return true
        case "false", "no", "off", "n": return false
        default: throw failure(node, path, "must be true or false")
        }
    }

    /// A Go duration (`1s`, `1m30s`, `500ms`), in nanoseconds.
    func duration(_ node: YAMLNode, _ path: String) throws(BerthError) -> Int64 {
        guard let text = node.scalar, let value = GoDuration.parse(text) else {
            throw failure(node, path, "must be a duration such as 30s, 1m30s or 500ms")
        }
        return value
    }

    /// A list of scalars.
    func strings(_ node: YAMLNode, _ path: String) throws(BerthError) -> [String] {
        guard let items = node.sequence else { throw failure(node, path, "must be a list") }
        var result: [String] = []
        for (index, item) in items.enumerated() { result.append(try string(item, "\(path)[\(index)]")) }
        return result
    }

    /// A list of scalars, or one scalar standing for a list of one.
    func stringOrList(_ node: YAMLNode, _ path: String) throws(BerthError) -> [String] {
        if node.sequence != nil { return try strings(node, path) }
        return [try string(node, path)]
    }

    /// A command: a list of words, or one string split as a shell would.
    func command(_ node: YAMLNode, _ path: String) throws(BerthError) -> [String] {
        if node.sequence != nil { return try strings(node, path) }
        guard let text = node.scalar, !node.isNull else { throw failure(node, path, "must be a string or a list") }
        guard let words = String.shellWords(text) else { throw failure(node, path, "has an unclosed quote or a trailing backslash") }
        return words
    }

    /// A mapping of names to values, or a list of `NAME=value` (a `NAME` alone, or a mapping
    /// entry with no value, is a nil value).
    func keyValues(_ node: YAMLNode, _ path: String) throws(BerthError) -> [(String, String?)] {
        if let items = node.sequence {
            var result: [(String, String?)] = []
            for (index, item) in items.enumerated() {
                let text = try string(item, "\(path)[\(index)]")
                let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard !parts[0].isEmpty else { throw failure(item, "\(path)[\(index)]", "names no variable: use NAME=value") }
                result.append((String(parts[0]), parts.count > 1 ? String(parts[1]) : nil))
            }
            return result
        }
        guard let entries = node.mapping else { throw failure(node, path, "must be a mapping or a list of NAME=value") }
        var result: [(String, String?)] = []
        for (key, value) in entries {
            if value.isNull {
                result.append((key, nil))
            } else {
                guard let text = value.scalar else { throw failure(value, path + "." + key, "must be a string") }
                result.append((key, text))
            }
        }
        return result
    }

    /// Labels: `keyValues` with a missing value as "".
    func labels(_ node: YAMLNode, _ path: String) throws(BerthError) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in try keyValues(node, path) { result[key] = value ?? "" }
        return result
    }

    /// A path of the file's, absolute: relative ones are taken from the file's directory.
    func hostPath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path == "~" || path.hasPrefix("~/"), let home = environment["HOME"] { return home + path.dropFirst() }
        var relative = Substring(path)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        if relative == "." || relative.isEmpty { return directory }
        return directory + "/" + relative
    }
}
