import FileSystem

/// `--env-file` and `--label-file` as Docker reads them: one `NAME=value` a line, the value
/// taken as it is (no quotes removed, no trailing space cut); a line of only `NAME` passes the
/// caller's variable of that name (an environment file) or is a label with an empty value;
/// blank lines and lines starting with `#` (after leading spaces) are skipped.
public enum KeyValueFile {
    public enum Kind: Sendable {
        case environment
        case labels
    }

    /// The entries of `text` as `NAME=value` (or `NAME`) strings, in order. `source` names the
    /// file in errors.
    public static func parse(_ text: String, kind: Kind, source: String) throws(ContainerError) -> [String] {
        var entries: [String] = []
        var body = Substring(text)
        // A UTF-8 byte order mark, as an editor on another system may write.
        if body.hasPrefix("\u{FEFF}") { body = body.dropFirst() }
        // "\r\n" is one Character in Swift: a file written on Windows splits here too.
        let lines = body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (index, line) in lines.enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let name = trimmed.prefix { $0 != "=" }
            guard !name.isEmpty else {
                throw ContainerError(.invalidArgument, "\(source) line \(index + 1): no variable name before \"=\"")
            }
            if name.contains(where: { $0 == " " || $0 == "\t" }) {
                throw ContainerError(.invalidArgument, "\(source) line \(index + 1): the name \"\(name)\" contains whitespace")
            }
            if kind == .labels, !trimmed.contains("=") {
                entries.append(String(trimmed) + "=")
            } else {
                entries.append(String(trimmed))
            }
        }
        return entries
    }

    public static func read(_ path: String, kind: Kind) throws(ContainerError) -> [String] {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            throw ContainerError(.invalidArgument, "cannot read \(path): \(error.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ContainerError(.invalidArgument, "\(path) is not UTF-8 text")
        }
        return try parse(text, kind: kind, source: path)
    }

    /// `--label-file`s, then `--label`s over them (a later one of a key wins, as in Docker).
    public static func labels(files: [String], flags: [String]) throws(ContainerError) -> [String: String] {
        var labels: [String: String] = [:]
        var entries: [String] = []
        for file in files { entries += try read(file, kind: .labels) }
        for flag in flags {
            guard !flag.isEmpty, !flag.hasPrefix("=") else {
                throw ContainerError(.invalidArgument, "--label \"\(flag)\": give KEY=value or KEY")
            }
            entries.append(flag.contains("=") ? flag : flag + "=")
        }
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return labels
    }
}
