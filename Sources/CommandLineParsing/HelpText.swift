extension CommandSpec {
    /// The help `-h`/`--help` prints: usage line, abstract, discussion, the options table and the
    /// subcommands (those with subcommands of their own listed apart), wrapped to 80 columns. `path` is how the user reaches the command
    /// ("berth run"); it defaults to the command's own name.
    public func helpText(path: String? = nil) -> String {
        let path = path ?? name
        var sections = ["USAGE: \(path) \(usage)"]
        if !abstract.isEmpty { sections.append(abstract) }
        for paragraph in HelpLayout.paragraphs(discussion) {
            sections.append(HelpLayout.wrap(paragraph, width: HelpLayout.width).joined(separator: "\n"))
        }
        let help = OptionSpec.flag("help", short: "h", help: "Show this help.")
        let optionRows = (options + [help]).map { (label: $0.label, text: $0.help) }
        let commandRows = subcommands.filter { !$0.hidden }.map { (label: $0.name, text: $0.abstract) }
        // One text column for both tables, so they read as one.
        let labelWidth = min((optionRows + commandRows).map(\.label.count).max() ?? 0, HelpLayout.maxLabelWidth)
        sections.append("OPTIONS:\n" + HelpLayout.table(optionRows, labelWidth: labelWidth))
        if !subcommands.isEmpty {
            // Docker's grouping: the commands that are groups of commands (its management
            // commands, `container`, `image`) apart from the others, when there are both.
            let visible = subcommands.filter { !$0.hidden }
            let groups = visible.filter(\.hasSubcommands)
            if groups.isEmpty || groups.count == visible.count {
                sections.append("SUBCOMMANDS:\n" + HelpLayout.table(commandRows, labelWidth: labelWidth))
            } else {
                let rows = { (specs: [CommandSpec]) in specs.map { (label: $0.name, text: $0.abstract) } }
                sections.append("MANAGEMENT COMMANDS:\n" + HelpLayout.table(rows(groups), labelWidth: labelWidth))
                sections.append("COMMANDS:\n" + HelpLayout.table(rows(visible.filter { !$0.hasSubcommands }),
                                                                 labelWidth: labelWidth))
            }
            sections.append("See '\(path) COMMAND --help' for a command's options.")
        }
        return sections.joined(separator: "\n\n")
    }
}

extension OptionSpec {
    /// `-e, --env <var>...`; long-only options are indented to line up with the long names.
    var label: String {
        var label = (short.map { "-\($0), " } ?? "    ") + "--" + long
        switch kind {
        case .flag: break
        case .value(let valueName): label += " <\(valueName)>"
        case .repeatable(let valueName): label += " <\(valueName)>..."
        }
        return label
    }
}

/// Column layout for help: a two-column table and greedy word wrapping.
enum HelpLayout {
    static let width = 80
    static let indent = 2
    /// Labels longer than this put their text on the next line.
    static let maxLabelWidth = 28

    /// Each entry's label at the left, its text wrapped in a column to the right of the labels.
    static func table(_ rows: [(label: String, text: String)], labelWidth: Int) -> String {
        let column = indent + labelWidth + 2
        let margin = String(repeating: " ", count: column)
        var lines: [String] = []
        for row in rows {
            var text = wrap(row.text, width: width - column)
            let label = String(repeating: " ", count: indent) + row.label
            if label.count + 2 > column || text.isEmpty {
                lines.append(label)
            } else {
                lines.append(label + String(repeating: " ", count: column - label.count) + text.removeFirst())
            }
            lines += text.map { margin + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// The paragraphs of `text`: runs of lines separated by blank lines.
    static func paragraphs(_ text: String) -> [String] {
        var paragraphs: [String] = []
        var current: [Substring] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines + [Substring()] {
            if line.allSatisfy({ $0 == " " }) {
                if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
                current = []
            } else {
                current.append(line)
            }
        }
        return paragraphs
    }

    /// The words of `text` in lines of at most `width` characters (a longer word has its own line).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
