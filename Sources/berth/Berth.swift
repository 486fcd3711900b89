import CommandLineParsing

/// The `berth` command: its global options and its subcommands, and the dispatch from a
/// command line to the subcommand it asks for.
enum Berth {
    static let spec = CommandSpec(
        name: "berth",
        abstract: "Run applications in isolated containers.",
        usage: "[OPTIONS] COMMAND",
        options: GlobalOptions.options,
        subcommands: [Run.spec]
    )

    /// What a command line asks berth to do.
    enum Invocation {
        /// Print this help and exit 0.
        case help(String)
        case run(Run)
    }

    /// Parses and validates `arguments` (the words after the program's name).
    static func parse(_ arguments: [String]) throws(UsageError) -> Invocation {
        switch try spec.parse(arguments) {
        case .help(let text):
            return .help(text)
        case .commands(let levels):
            // The parser always returns berth's level and the subcommand's.
            let global = try GlobalOptions(levels[0])
            let command = levels[levels.count - 1]
            switch command.command.name {
            case Run.spec.name: return .run(try Run(global: global, command))
            default: throw UsageError("unknown command \"\(command.command.name)\" (see berth --help)")
            }
        }
    }
}
