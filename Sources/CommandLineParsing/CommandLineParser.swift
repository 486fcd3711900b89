/// The outcome of parsing a command line that is not an error.
public enum ParseResult: Sendable {
    /// `-h`/`--help` was given (or a command that needs a subcommand got none): print this text
    /// to stdout and exit 0.
    case help(String)
    /// What each command on the way said, the root first: `berth --debug run -i sh` gives
    /// berth's arguments, then run's.
    case commands([ParsedArguments])
}

extension CommandSpec {
    /// Parses the words after the program's name, once, left to right.
    ///
    /// The rules, getopt's and Docker's:
    /// - `--name value` and `--name=value`; `-n value` and `-nvalue`; flags combine (`-it`).
    ///   A value option takes the next word whatever it looks like (`--pids-limit -5`,
    ///   `-e --weird`); only a missing word is an error.
    /// - `--` ends the options; for a command with subcommands the next word still names one.
    /// - A command that stops at its first positional word gives that word and all after it to
    ///   its payload unparsed.
    /// - Options belong to the command they follow: the root's come before the subcommand.
    /// - `-h`/`--help` anywhere among a command's options answers with that command's help.
    /// - A command with subcommands given none answers with its help; given options but no
    ///   subcommand, it returns its own level last (`berth --version`).
    public func parse(_ words: [String]) throws(UsageError) -> ParseResult {
        var parser = CommandLineParser(words: words)
        return try parser.parse(self, path: name)
    }
}

/// One pass over the words; `index` is the next word to read.
struct CommandLineParser {
    let words: [String]
    var index = 0
    var levels: [ParsedArguments] = []

    init(words: [String]) {
        self.words = words
    }

    mutating func parse(_ command: CommandSpec, path: String) throws(UsageError) -> ParseResult {
        var parsed = ParsedArguments(command: command)
        let start = index
        var optionsEnded = false
        while index < words.count {
            let word = words[index]
            index += 1
            if !optionsEnded && word.hasPrefix("-") && word != "-" {
                if word == "--" {
                    optionsEnded = true
                } else if word == "--help" || word == "-h" {
                    return .help(command.helpText(path: path))
                } else if word.hasPrefix("--") {
                    try parseLong(word, command, path, into: &parsed)
                } else if try parseShort(word, command, path, into: &parsed) == .help {
                    return .help(command.helpText(path: path))
                }
                continue
            }
            if command.hasSubcommands {
                guard let found = command.subcommandIndex(named: word) else {
                    throw UsageError("unknown command \"\(word)\" for \(path) (see \(path) --help)")
                }
                let subcommand = command.subcommand(at: found)
                levels.append(parsed)
                return try parse(subcommand, path: path + " " + subcommand.name)
            }
            parsed.positionals.append(word)
            if command.stopsAtFirstPositional { optionsEnded = true }
        }
        // A command with subcommands given none: its help, unless it was given options, which
        // its caller reads alone (`berth --version`).
        if command.hasSubcommands, parsed.given.isEmpty { return .help(command.helpText(path: path)) }
        parsed.words = Array(words[start...])
        levels.append(parsed)
        return .commands(levels)
    }

    /// `--name`, `--name value` or `--name=value` (a flag's value is true or false).
    private mutating func parseLong(_ word: String, _ command: CommandSpec, _ path: String,
                                    into parsed: inout ParsedArguments) throws(UsageError) {
        let body = word.dropFirst(2)
        let equals = body.firstIndex(of: "=")
        let name = body[..<(equals ?? body.endIndex)]
        guard let found = command.optionIndex(long: name) else {
            throw Self.unknownOption("--" + name, command, path)
        }
        let option = command.options[found]
        let inline = equals.map { String(body[body.index(after: $0)...]) }
        if !option.takesValue {
            let value = try inline.map { text throws(UsageError) in try Self.boolean(text, for: "--" + option.long) }
            parsed.given.append(.init(option: option.long, value: value))
        } else {
            let value = if let inline { inline } else { try nextWord(for: "--" + option.long) }
            parsed.given.append(.init(option: option.long, value: value))
        }
    }

    /// Whether a group of short options asked for help (`-ih`).
    enum ShortOutcome { case parsed, help }

    /// `-i`, `-it` (flags combined), `-t=false`, `-m 64m` or `-m64m` (a value option ends the group).
    private mutating func parseShort(_ word: String, _ command: CommandSpec, _ path: String,
                                     into parsed: inout ParsedArguments) throws(UsageError) -> ShortOutcome {
        let letters = word.dropFirst()
        var position = letters.startIndex
        while position < letters.endIndex {
            let letter = letters[position]
            position = letters.index(after: position)
            if letter == "h" { return .help }
            guard let found = command.optionIndex(short: letter) else {
                throw Self.unknownOption("-" + String(letter), command, path)
            }
            let option = command.options[found]
            guard option.takesValue else {
                // `-p=false`: Docker's spelling of a boolean's value; it ends the group.
                if position < letters.endIndex, letters[position] == "=" {
                    let text = String(letters[letters.index(after: position)...])
                    parsed.given.append(.init(option: option.long, value: try Self.boolean(text, for: "-" + String(letter))))
                    break
                }
                parsed.given.append(.init(option: option.long, value: nil))
                continue
            }
            let attached = letters[position...]
            let value = attached.isEmpty ? try nextWord(for: "-" + String(letter)) : String(attached)
            parsed.given.append(.init(option: option.long, value: value))
            break
        }
        return .parsed
    }

    /// A flag's `=value`, as Docker (Go's strconv.ParseBool) takes it, recorded as "true" or "false".
    private static func boolean(_ text: String, for spelling: String) throws(UsageError) -> String {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return "true"
        case "0", "f", "F", "false", "FALSE", "False": return "false"
        default: throw UsageError("\(spelling) is a flag: give it alone or as \(spelling)=false, not \(spelling)=\(text)")
        }
    }

    private mutating func nextWord(for option: String) throws(UsageError) -> String {
        guard index < words.count else { throw UsageError("missing value for \(option)") }
        index += 1
        return words[index - 1]
    }

    private static func unknownOption(_ spelling: String, _ command: CommandSpec, _ path: String) -> UsageError {
        // For a command whose payload starts at its first positional word, a word that looks like
        // an option there is a misspelt option, not a program called "--rm".
        let advice = command.stopsAtFirstPositional ? "put the command after --, or see" : "see"
        return UsageError("unknown option \"\(spelling)\" for \(path) (\(advice) \(path) --help)")
    }
}
