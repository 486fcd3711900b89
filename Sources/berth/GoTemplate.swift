import CommandLineParsing
import JSON

/// The part of Go's text/template that Docker's `--format` is used with: literal text, field
/// references (`{{.Names}}`, `{{.State.Pid}}`), `{{json .}}` and `{{json .Field}}`, and the
/// `table` prefix (a header row, columns aligned at each `\t`). `\t` and `\n` in the text are a
/// tab and a newline, as Docker reads them. Evaluated over the JSON object `--format json` prints.
struct GoTemplate: Equatable {
    enum Piece: Equatable {
        case text(String)
        /// The path below `.`; empty for `.` itself.
        case field([String])
        case json([String])
    }

    let pieces: [Piece]
    /// `table ...`: a header row, and the rows aligned.
    let isTable: Bool

    init(_ format: String) throws(UsageError) {
        var text = Substring(format)
        isTable = text.hasPrefix("table ") || text == "table"
        if isTable { text = text.dropFirst(5).drop { $0 == " " } }
        let unescaped = String(text).replacing("\\t", with: "\t").replacing("\\n", with: "\n")
        var pieces: [Piece] = []
        var rest = Substring(unescaped)
        // Bounded by the text's length: each turn consumes at least one action or the rest.
        while !rest.isEmpty {
            guard let open = rest.firstRange(of: "{{") else {
                pieces.append(.text(String(rest)))
                break
            }
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw UsageError("bad --format template \"\(format)\": an action opened with {{ is not closed with }}")
            }
            let action = rest[open.upperBound..<close.lowerBound].trimmingSpaces
            pieces.append(try Self.piece(String(action), format: format))
            rest = rest[close.upperBound...]
        }
        self.pieces = pieces
    }

    private static func piece(_ action: String, format: String) throws(UsageError) -> Piece {
        let words = action.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if words.count == 1, let path = fieldPath(words[0]) { return .field(path) }
        if words.count == 2, words[0] == "json", let path = fieldPath(words[1]) { return .json(path) }
        throw UsageError("bad --format template \"\(format)\": {{\(action)}} is not supported (use {{.Field}}, {{.A.B}} or {{json .}})")
    }

    /// `.` → [], `.A.B` → ["A", "B"]; nil when `word` is not a field reference.
    private static func fieldPath(_ word: String) -> [String]? {
        guard word.hasPrefix(".") else { return nil }
        if word == "." { return [] }
        let parts = word.dropFirst().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }) else { return nil }
        return parts
    }

    /// The template applied to `value`; an unknown field is an error naming it.
    func render(_ value: JSONValue) throws(UsageError) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let text): out += text
            case .field(let path): out += Self.plain(try Self.lookup(path, in: value))
            case .json(let path): out += String(decoding: JSON.serialize(try Self.lookup(path, in: value)), as: UTF8.self)
            }
        }
        return out
    }

    /// The header row of a table: each field's name in capitals, or `headers`' name for it.
    func header(_ headers: [String: String]) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): text
            case .field(let path), .json(let path):
                path.isEmpty ? "" : headers[path.joined(separator: ".")] ?? (path.last ?? "").uppercased()
            }
        }.joined()
    }

    private static func lookup(_ path: [String], in value: JSONValue) throws(UsageError) -> JSONValue {
        var current = value
        for key in path {
            guard let members = current.object, let next = members.first(where: { $0.key == key })?.value else {
                throw UsageError("bad --format template: no field .\(path.joined(separator: ".")) (at \"\(key)\")")
            }
            current = next
        }
        return current
    }

    /// A value as Go's fmt prints it: strings bare, lists as [a b], maps as map[k:v].
    private static func plain(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.description
        case .string(let s): return s
        case .array(let items): return "[" + items.map(plain).joined(separator: " ") + "]"
        case .object(let members):
            return "map[" + members.sorted { $0.key < $1.key }.map { "\($0.key):\(plain($0.value))" }.joined(separator: " ") + "]"
        }
    }
}

private extension Substring {
    var trimmingSpaces: Substring {
        let start = drop { $0 == " " }
        var end = start
        while end.hasSuffix(" ") { end = end.dropLast() }
        return end
    }
}

/// A list printed through a template: rows as they come, or a table at the end.
final class TemplateOutput {
    let template: GoTemplate
    let headers: [String: String]
    private var rows: [String] = []

    init(_ template: GoTemplate, headers: [String: String] = [:]) {
        self.template = template
        self.headers = headers
    }

    func add(_ object: [(String, JSONValue)]) throws(UsageError) {
        let line = try template.render(.object(object.map { (key: $0.0, value: $0.1) }))
        if template.isTable { rows.append(line) } else { Output.print(line) }
    }

    func finish() {
        guard template.isTable else { return }
        var table = Table(template.header(headers).split(separator: "\t", omittingEmptySubsequences: false).map(String.init))
        for row in rows { table.add(row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)) }
        Output.print(table.render())
    }
}
