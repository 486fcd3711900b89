/// A command described as data: its name, its help, its options, what follows them, and its
/// subcommands. The parser reads nothing else; there is no reflection.
///
/// `-h` and `--help` are reserved: every command answers them with its help.
public struct CommandSpec: Sendable {
    public let name: String
    /// One line: what the command does.
    public let abstract: String
    /// Paragraphs (separated by a blank line) shown after the abstract, wrapped to 80 columns.
    public let discussion: String
    /// What follows the command's name in its usage line, e.g. `[OPTIONS] [--] COMMAND [ARG...]`.
    public let usage: String
    public let options: [OptionSpec]
    /// True when the first positional word and everything after it are the command's payload, not
    /// its options: `berth run --rootfs R sh -c 'ls -l'` gives `-c` to sh, not to berth.
    public let stopsAtFirstPositional: Bool
    /// The subcommands' names, in order. When there are any, the first positional word names one
    /// and the rest of the words are that subcommand's; options before it are this command's
    /// (`berth --debug run …`).
    public let subcommandNames: [String]
    /// Left out of its parent's help: a command berth runs itself, not one for people.
    public let hidden: Bool
    private let builtSubcommands: [CommandSpec]
    /// Makes the subcommand at an index of `subcommandNames`, for a command whose subcommands are
    /// made when asked for: a command line names one, and parsing it should not pay for making
    /// every other's spec (berth has sixty).
    private let makeSubcommand: (@Sendable (Int) -> CommandSpec)?

    public init(name: String, abstract: String, discussion: String = "", usage: String = "[OPTIONS]",
                options: [OptionSpec] = [], stopsAtFirstPositional: Bool = false,
                subcommands: [CommandSpec] = [], hidden: Bool = false) {
        self.init(name: name, abstract: abstract, discussion: discussion, usage: usage, options: options,
                  stopsAtFirstPositional: stopsAtFirstPositional, subcommandNames: subcommands.map(\.name),
                  builtSubcommands: subcommands, makeSubcommand: nil, hidden: hidden)
    }

    /// A command whose subcommands, named in order by `subcommandNames`, are made by `subcommand`
    /// when the parser, the help or a completion script asks for them.
    public init(name: String, abstract: String, usage: String = "[OPTIONS]", options: [OptionSpec] = [],
                subcommandNames: [String], subcommand: @escaping @Sendable (String) -> CommandSpec) {
        self.init(name: name, abstract: abstract, discussion: "", usage: usage, options: options, stopsAtFirstPositional: false,
                  subcommandNames: subcommandNames, builtSubcommands: [],
                  makeSubcommand: { subcommand(subcommandNames[$0]) }, hidden: false)
    }

    private init(name: String, abstract: String, discussion: String, usage: String, options: [OptionSpec],
                 stopsAtFirstPositional: Bool, subcommandNames: [String], builtSubcommands: [CommandSpec],
                 makeSubcommand: (@Sendable (Int) -> CommandSpec)?, hidden: Bool) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.usage = usage
        self.options = options
        self.stopsAtFirstPositional = stopsAtFirstPositional
        self.subcommandNames = subcommandNames
        self.builtSubcommands = builtSubcommands
        self.makeSubcommand = makeSubcommand
        self.hidden = hidden
    }

    /// Every subcommand's spec, in order (all of them made, for a lazy command).
    public var subcommands: [CommandSpec] {
        guard let makeSubcommand else { return builtSubcommands }
        return subcommandNames.indices.map(makeSubcommand)
    }

    public var hasSubcommands: Bool { !subcommandNames.isEmpty }

    func subcommand(at index: Int) -> CommandSpec {
        makeSubcommand?(index) ?? builtSubcommands[index]
    }

    // Indices rather than optional copies: an optional of a large struct from another module
    // costs a runtime metadata instantiation on first use, at every start.
    func optionIndex(long name: Substring) -> Int? {
        options.firstIndex { $0.long == name }
    }

    func optionIndex(short name: Character) -> Int? {
        options.firstIndex { $0.short == name }
    }

    func subcommandIndex(named name: String) -> Int? {
        subcommandNames.firstIndex(of: name)
    }
}

extension CommandSpec {
    /// The same command under another name: an alias's spec (`container ls` for `ps`), whose
    /// usage line and errors then say the name the user typed.
    public func named(_ name: String) -> CommandSpec {
        CommandSpec(name: name, abstract: abstract, discussion: discussion, usage: usage, options: options,
                    stopsAtFirstPositional: stopsAtFirstPositional, subcommandNames: subcommandNames,
                    builtSubcommands: builtSubcommands, makeSubcommand: makeSubcommand, hidden: hidden)
    }
}
