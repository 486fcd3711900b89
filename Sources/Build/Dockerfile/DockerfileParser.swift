import JSON

/// A Dockerfile's text as instructions, by the rules of Docker's reference: parser directives
/// (`# escape=`, `# syntax=`, `# check=`) before anything else, comments, the escape character
/// continuing a line, case-insensitive names, `--flags`, the JSON-array (exec) form, heredocs.
/// Variables are not expanded here (see `StagePlan`).
public struct Dockerfile: Sendable, Equatable {
    /// The name in messages: `Dockerfile`, `deploy/Dockerfile`, `-` for stdin.
    public var file: String
    public var escape: Character
    /// The `# syntax=` directive, read and ignored (there is no frontend to fetch).
    public var syntax: String?
    public var instructions: [Instruction]

    /// Parses `text`; a malformed line is an error naming `file` and the line.
    public static func parse(_ text: String, file: String = "Dockerfile") throws -> Dockerfile {
        var parser = Parser(lines: splitLines(text), file: file)
        return try parser.parse()
    }

    /// The strings of a JSON array, nil when the text is not an array of strings.
    static func jsonArray(_ text: String) -> [String]? { Parser.jsonArray(text) }

    static func splitLines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

private struct Parser {
    let lines: [String]
    let file: String
    var index = 0
    var escape: Character = "\\"
    var syntax: String?

    init(lines: [String], file: String) {
        self.lines = lines
        self.file = file
    }

    mutating func parse() throws -> Dockerfile {
        readDirectives()
        var instructions: [Instruction] = []
        while index < lines.count {
            let trimmed = lines[index].trimmingLeadingSpace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                index += 1
                continue
            }
            instructions.append(try instruction())
        }
        return Dockerfile(file: file, escape: escape, syntax: syntax, instructions: instructions)
    }

    /// `# key=value` lines at the very top; the first other line ends them.
    mutating func readDirectives() {
        var seen = Set<String>()
        while index < lines.count {
            let line = lines[index].trimmingLeadingSpace()
            guard line.hasPrefix("#") else { return }
            let body = line.dropFirst()
            guard let equals = body.firstIndex(of: "=") else { return }
            let key = body[..<equals].trimmingSpace().lowercased()
            let value = body[body.index(after: equals)...].trimmingSpace()
            guard ["escape", "syntax", "check"].contains(key), !key.contains(" "), seen.insert(key).inserted else { return }
            if key == "escape", value == "`" { escape = "`" }
            if key == "syntax" { syntax = value }
            index += 1
        }
    }

    mutating func instruction() throws -> Instruction {
        let start = index + 1
        var logical = ""
        // A line ending in the escape character goes on; comment and empty lines in between are
        // skipped, as Docker does.
        while index < lines.count {
            let line = lines[index]
            index += 1
            let stripped = line.trimmingTrailingSpace()
            if stripped.last == escape {
                logical += stripped.dropLast()
                while index < lines.count {
                    let next = lines[index].trimmingLeadingSpace()
                    guard next.isEmpty || next.hasPrefix("#") else { break }
                    index += 1
                }
                if index == lines.count { break }
                continue
            }
            logical += line
            break
        }
        let text = logical.trimmingLeadingSpace()
        let nameEnd = text.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? text.endIndex
        let word = String(text[..<nameEnd])
        let name = word.uppercased()
        guard let allowedFlags = Instruction.known[name] else {
            let hint = Self.suggestion(for: name).map { " (did you mean \($0)?)" } ?? ""
            throw BuildError.dockerfile(file, line: start, "unknown instruction \(word)\(hint)")
        }
        var rest = String(text[nameEnd...]).trimmingLeadingSpace()
        var flags: [Instruction.Flag] = []
        if name != "ONBUILD" {
            while rest.hasPrefix("--") {
                let end = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? rest.endIndex
                let token = rest[rest.index(rest.startIndex, offsetBy: 2)..<end]
                rest = String(rest[end...]).trimmingLeadingSpace()
                let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let flagName = String(parts[0])
                guard allowedFlags.contains(flagName) else {
                    throw BuildError.dockerfile(file, line: start, "unknown flag --\(flagName) for \(name)")
                }
                flags.append(.init(flagName, parts.count > 1 ? String(parts[1]) : "true"))
            }
        }
        rest = rest.trimmingTrailingSpace()
        var heredocs: [Instruction.Heredoc] = []
        if Instruction.heredocForms.contains(name) {
            for marker in Self.heredocMarkers(in: rest) {
                heredocs.append(try readHeredoc(marker, instructionLine: start))
            }
        }
        var json: [String]?
        if Instruction.jsonForms.contains(name), rest.hasPrefix("[") {
            json = Self.jsonArray(rest)
        }
        if name == "SHELL", json == nil {
            throw BuildError.dockerfile(file, line: start, "SHELL requires the arguments to be in JSON form, as in SHELL [\"/bin/sh\", \"-c\"]")
        }
        if rest.isEmpty {
            throw BuildError.dockerfile(file, line: start, "\(name) requires at least one argument")
        }
        return Instruction(name: name, flags: flags, text: rest, json: json, heredocs: heredocs, line: start,
                           original: logical.trimmingSpace())
    }

    struct HeredocMarker {
        var name: String
        var stripsTabs: Bool
        var expands: Bool
    }

    /// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` in the instruction's text.
    static func heredocMarkers(in text: String) -> [HeredocMarker] {
        var markers: [HeredocMarker] = []
        let c = Array(text)
        var i = 0
        var quote: Character?
        while i < c.count {
            if let q = quote {
                if c[i] == q { quote = nil }
                i += 1
                continue
            }
            if c[i] == "'" || c[i] == "\"" {
                quote = c[i]
                i += 1
                continue
            }
            guard c[i] == "<", i + 2 < c.count, c[i + 1] == "<", c[i + 2] != "<", i == 0 || c[i - 1] != "<" else {
                i += 1
                continue
            }
            var j = i + 2
            var stripsTabs = false
            if j < c.count, c[j] == "-" {
                stripsTabs = true
                j += 1
            }
            var quoted: Character?
            if j < c.count, c[j] == "\"" || c[j] == "'" {
                quoted = c[j]
                j += 1
            }
            var name = ""
            while j < c.count, c[j] != " ", c[j] != "\t", c[j] != quoted ?? " ", c[j] != ">", c[j] != "|", c[j] != ";" {
                name.append(c[j])
                j += 1
            }
            if quoted != nil, j < c.count, c[j] == quoted { j += 1 }
            if !name.isEmpty {
                markers.append(HeredocMarker(name: name, stripsTabs: stripsTabs, expands: quoted == nil))
            }
            i = j
        }
        return markers
    }

    mutating func readHeredoc(_ marker: HeredocMarker, instructionLine: Int) throws -> Instruction.Heredoc {
        var body = ""
        while index < lines.count {
            var line = lines[index]
            index += 1
            if marker.stripsTabs {
                line = String(line.drop { $0 == "\t" })
            }
            if line == marker.name {
                return Instruction.Heredoc(name: marker.name, body: body, expands: marker.expands)
            }
            body += line + "\n"
        }
        throw BuildError.dockerfile(file, line: instructionLine, "the heredoc <<\(marker.name) is never ended: no line \(marker.name) follows it")
    }

    /// The strings of a JSON array, nil when the text is not an array of strings (Docker then
    /// takes it as the shell form).
    static func jsonArray(_ text: String) -> [String]? {
        guard let value = try? JSON.parse(Array(text.utf8)), case .array(let items) = value else { return nil }
        var strings: [String] = []
        for item in items {
            guard case .string(let s) = item else { return nil }
            strings.append(s)
        }
        return strings
    }

    /// The known instruction closest to a misspelt one (two edits at most).
    static func suggestion(for name: String) -> String? {
        let candidates = Instruction.known.keys.map { ($0, editDistance(Array(name), Array($0))) }
            .filter { $0.1 <= 2 }
            .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return candidates.first?.0
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

extension StringProtocol {
    func trimmingLeadingSpace() -> String { String(drop { $0 == " " || $0 == "\t" }) }

    func trimmingTrailingSpace() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }

    func trimmingSpace() -> String { trimmingLeadingSpace().trimmingTrailingSpace() }
}
