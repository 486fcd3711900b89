import CommandLineParsing
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// Docker-style listings: left-aligned columns three spaces apart, or one JSON object per line
/// (`--format json`), or ids only (`-q`).
struct Table {
    let headers: [String]
    var rows: [[String]] = []

    init(_ headers: [String]) {
        self.headers = headers
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (i, cell) in cells.enumerated() {
                text += cell
                if i < cells.count - 1 { text += String(repeating: " ", count: widths[i] - cell.count + 3) }
            }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}

/// How a list command prints: `--format table|json` and `-q`.
enum ListFormat: Equatable {
    case table, json, quiet
    /// A Go template (`{{.ID}}`, `table {{.Names}}\t{{.Status}}`): see `GoTemplate`.
    case template(GoTemplate)

    /// The options every list command takes; `-q` prints `quietHelp`'s ids.
    static func options(quietHelp: String) -> [OptionSpec] {
        [
            .flag("quiet", short: "q", help: quietHelp),
            .value("format", valueName: "format",
                   help: "table, json (one object per line), or a Go template ({{.ID}}, {{json .}}, table {{.Names}}\\t{{.Status}})."),
            .flag("no-trunc", help: "Do not truncate ids and commands."),
        ]
    }

    init(_ parsed: ParsedArguments) throws(UsageError) {
        let format = parsed.string("format")
        if parsed.flag("quiet") {
            self = .quiet
            return
        }
        switch format ?? "table" {
        case "table": self = .table
        case "json", "{{json .}}": self = .json
        case let text where text.contains("{{"): self = .template(try GoTemplate(text))
        default: throw UsageError("unknown --format \"\(format ?? "")\": use table, json or a Go template such as {{.ID}}")
        }
    }

    /// The output of a template format, nil for the others.
    func templateOutput(headers: [String: String] = [:]) -> TemplateOutput? {
        guard case .template(let template) = self else { return nil }
        return TemplateOutput(template, headers: headers)
    }
}

/// One row of a list in `--format json` or through a template.
func emitRow(_ templated: TemplateOutput?, _ object: [(String, JSONValue)]) throws(UsageError) {
    guard let templated else { return Output.jsonLine(object) }
    try templated.add(object)
}

extension Output {
    /// One JSON object per line, `docker ps --format json`'s form.
    static func jsonLine(_ object: [(String, JSONValue)]) {
        let value = JSONValue.object(object.map { (key: $0.0, value: $0.1) })
        writeLine(STDOUT_FILENO, String(decoding: JSON.serialize(value), as: UTF8.self))
    }

    static func print(_ text: String) { writeLine(STDOUT_FILENO, text) }
}

