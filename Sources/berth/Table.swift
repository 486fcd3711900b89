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
enum ListFormat {
    case table, json, quiet

    /// The options every list command takes; `-q` prints `quietHelp`'s ids.
    static func options(quietHelp: String) -> [OptionSpec] {
        [
            .flag("quiet", short: "q", help: quietHelp),
            .value("format", valueName: "format", help: "table or json (one object per line)."),
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
        default: throw UsageError("unknown --format \"\(format ?? "")\": use table or json")
        }
    }
}

extension Output {
    /// One JSON object per line, `docker ps --format json`'s form.
    static func jsonLine(_ object: [(String, JSONValue)]) {
        let value = JSONValue.object(object.map { (key: $0.0, value: $0.1) })
        writeLine(STDOUT_FILENO, String(decoding: JSON.serialize(value), as: UTF8.self))
    }

    static func print(_ text: String) { writeLine(STDOUT_FILENO, text) }
}

