import Testing
@testable import CommandLineParsing

/// A made-up tool with the shapes berth uses: global options, a subcommand whose payload starts
/// at its first positional word (like `berth run`), and one that takes positionals anywhere.
let tool = CommandSpec(
    name: "tool",
    abstract: "Do things.",
    usage: "[OPTIONS] COMMAND",
    options: [
        .value("root", valueName: "dir", help: "State directory."),
        .flag("verbose", short: "V", help: "Say more."),
    ],
    subcommands: [
        CommandSpec(
            name: "exec",
            abstract: "Run a program.",
            discussion: """
                The program runs with the options given, and its exit code becomes the tool's own; \
                a program killed by a signal gives 128 plus the signal's number.

                A second paragraph.
                """,
            usage: "[OPTIONS] [--] PROGRAM [ARG...]",
            options: [
                .flag("interactive", short: "i", help: "Keep stdin open."),
                .flag("tty", short: "t", help: "Allocate a terminal."),
                .value("memory", short: "m", valueName: "size", help: "Memory limit."),
                .repeatable("env", short: "e", valueName: "var",
                            help: "Set a variable; this help text is long enough that it has to wrap onto a second line."),
                .value("cpus", valueName: "n", help: "CPU limit."),
                .value("count", valueName: "n", help: "How many."),
                .value("a-very-long-option-name", valueName: "value", help: "Its help starts on the next line."),
            ],
            stopsAtFirstPositional: true
        ),
        CommandSpec(name: "copy", abstract: "Copy files.", usage: "[OPTIONS] SOURCE... TARGET",
                    options: [.flag("force", short: "f", help: "Overwrite.")]),
    ]
)

/// Parses and returns every level, failing the test on help.
func levels(_ words: [String]) throws -> [ParsedArguments] {
    switch try tool.parse(words) {
    case .commands(let levels): return levels
    case .help: throw UsageError("unexpected help for \(words)")
    }
}

/// What a subcommand's part of a command line should parse to.
struct Expected: Sendable, CustomTestStringConvertible {
    var flags: Set<String> = []
    var values: [String: [String]] = [:]
    var positionals: [String] = []
    var testDescription: String { "flags \(flags.sorted()) values \(values) positionals \(positionals)" }
}

@Suite("Command-line parsing") struct ParserTests {
    @Test(arguments: [
        // Combined short flags, either order.
        (["exec", "-it", "sh"], Expected(flags: ["interactive", "tty"], positionals: ["sh"])),
        (["exec", "-ti", "sh"], Expected(flags: ["interactive", "tty"], positionals: ["sh"])),
        (["exec", "-i", "-t", "sh"], Expected(flags: ["interactive", "tty"], positionals: ["sh"])),
        (["exec", "--interactive", "sh"], Expected(flags: ["interactive"], positionals: ["sh"])),
        // Every spelling of a value.
        (["exec", "--memory", "64m", "sh"], Expected(values: ["memory": ["64m"]], positionals: ["sh"])),
        (["exec", "--memory=64m", "sh"], Expected(values: ["memory": ["64m"]], positionals: ["sh"])),
        (["exec", "-m", "64m", "sh"], Expected(values: ["memory": ["64m"]], positionals: ["sh"])),
        (["exec", "-m64m", "sh"], Expected(values: ["memory": ["64m"]], positionals: ["sh"])),
        (["exec", "-im", "64m", "sh"], Expected(flags: ["interactive"], values: ["memory": ["64m"]], positionals: ["sh"])),
        (["exec", "--env=", "sh"], Expected(values: ["env": [""]], positionals: ["sh"])),
        (["exec", "--env=A=b=c", "sh"], Expected(values: ["env": ["A=b=c"]], positionals: ["sh"])),
        // A value option takes the next word whatever it looks like.
        (["exec", "--count", "-5", "sh"], Expected(values: ["count": ["-5"]], positionals: ["sh"])),
        (["exec", "-e", "--", "sh"], Expected(values: ["env": ["--"]], positionals: ["sh"])),
        (["exec", "-e", "-i", "sh"], Expected(values: ["env": ["-i"]], positionals: ["sh"])),
        // Repeated options keep every value, in order.
        (["exec", "-e", "A=1", "--env", "B=2", "--env=C=3", "-eD=4", "-e", "A=5", "sh"],
         Expected(values: ["env": ["A=1", "B=2", "C=3", "D=4", "A=5"]], positionals: ["sh"])),
        (["exec", "--memory", "1m", "-m", "2m", "sh"], Expected(values: ["memory": ["1m", "2m"]], positionals: ["sh"])),
        // `--` ends the options.
        (["exec", "--", "-weird", "-i"], Expected(positionals: ["-weird", "-i"])),
        (["exec", "-i", "--", "--", "x"], Expected(flags: ["interactive"], positionals: ["--", "x"])),
        // From the first positional word on, everything is the payload.
        (["exec", "sh", "-i", "--memory", "1m", "--", "x", "-h"],
         Expected(positionals: ["sh", "-i", "--memory", "1m", "--", "x", "-h"])),
        (["exec", "-", "-i"], Expected(positionals: ["-", "-i"])),
        (["exec"], Expected()),
        // A command that does not stop takes options between its positionals.
        (["copy", "a", "-f", "b"], Expected(flags: ["force"], positionals: ["a", "b"])),
        (["copy", "a", "--", "-f"], Expected(positionals: ["a", "-f"])),
        (["--", "copy", "-f", "x"], Expected(flags: ["force"], positionals: ["x"])),
    ])
    func parses(words: [String], expected: Expected) throws {
        let parsed = try levels(words)
        #expect(parsed.count == 2)
        let command = try #require(parsed.last)
        #expect(Set(command.given.filter { $0.value == nil }.map(\.option)) == expected.flags)
        let values = command.given.compactMap { given in given.value.map { (given.option, $0) } }
        #expect(Dictionary(grouping: values, by: \.0).mapValues { $0.map(\.1) } == expected.values)
        #expect(command.positionals == expected.positionals)
    }

    @Test func globalOptionsBeforeTheSubcommand() throws {
        let parsed = try levels(["--root", "/s", "-V", "exec", "-i", "sh"])
        #expect(parsed.map(\.command.name) == ["tool", "exec"])
        #expect(parsed[0].string("root") == "/s")
        #expect(parsed[0].flag("verbose"))
        #expect(parsed[0].positionals.isEmpty)
        #expect(parsed[0].given == [.init(option: "root", value: "/s"), .init(option: "verbose", value: nil)])
        #expect(parsed[1].flag("interactive"))
        #expect(parsed[1].positionals == ["sh"])

        let bare = try levels(["exec", "sh"])
        #expect(bare[0].string("root") == nil && !bare[0].flag("verbose"))
    }

    @Test(arguments: [
        (["exec", "--memmory", "1m", "sh"],
         "unknown option \"--memmory\" for tool exec (put the command after --, or see tool exec --help)"),
        (["exec", "--memmory=1m", "sh"],
         "unknown option \"--memmory\" for tool exec (put the command after --, or see tool exec --help)"),
        (["exec", "-ix", "sh"], "unknown option \"-x\" for tool exec (put the command after --, or see tool exec --help)"),
        (["copy", "--bogus", "a"], "unknown option \"--bogus\" for tool copy (see tool copy --help)"),
        // Options belong to the command they follow.
        (["--bogus", "exec", "sh"], "unknown option \"--bogus\" for tool (see tool --help)"),
        (["-i", "exec", "sh"], "unknown option \"-i\" for tool (see tool --help)"),
        (["exec", "--verbose", "sh"],
         "unknown option \"--verbose\" for tool exec (put the command after --, or see tool exec --help)"),
        (["nope", "x"], "unknown command \"nope\" for tool (see tool --help)"),
        (["exec", "--memory"], "missing value for --memory"),
        (["exec", "-m"], "missing value for -m"),
        (["exec", "-im"], "missing value for -m"),
        (["--root"], "missing value for --root"),
        (["exec", "--interactive=yes", "sh"], "--interactive is a flag: give it alone or as --interactive=false, not --interactive=yes"),
        (["exec", "--tty=", "sh"], "--tty is a flag: give it alone or as --tty=false, not --tty="),
        (["exec", "-t=no", "sh"], "-t is a flag: give it alone or as -t=false, not -t=no"),
        (["exec", "-it=", "sh"], "-t is a flag: give it alone or as -t=false, not -t="),
    ])
    func rejects(words: [String], message: String) {
        let error = #expect(throws: UsageError.self) { try tool.parse(words) }
        #expect(error?.message == message)
        #expect(error?.description == message)
    }

    @Suite("typed values") struct TypedValues {
        func exec(_ words: [String]) throws -> ParsedArguments {
            try #require(try levels(["exec"] + words + ["sh"]).last)
        }

        @Test(arguments: [("42", 42), ("-5", -5), ("0", 0), ("9223372036854775807", Int64.max)] as [(String, Int64)])
        func wholeNumbers(text: String, value: Int64) throws {
            #expect(try exec(["--count", text]).int64("count") == value)
        }

        @Test(arguments: ["x", "1.5", "", "9223372036854775808", " 1"])
        func notWholeNumbers(text: String) throws {
            let parsed = try exec(["--count", text])
            let error = #expect(throws: UsageError.self) { try parsed.int64("count") }
            #expect(error?.message == "--count: \"\(text)\" is not a whole number")
        }

        @Test(arguments: [("0.5", 0.5), ("2", 2), ("1e3", 1000), ("-1", -1)] as [(String, Double)])
        func numbers(text: String, value: Double) throws {
            #expect(try exec(["--cpus", text]).double("cpus") == value)
        }

        @Test(arguments: ["lots", "", "1,5", "0.5x"])
        func notNumbers(text: String) throws {
            let parsed = try exec(["--cpus", text])
            let error = #expect(throws: UsageError.self) { try parsed.double("cpus") }
            #expect(error?.message == "--cpus: \"\(text)\" is not a number")
        }

        @Test func absentValues() throws {
            let parsed = try exec([])
            #expect(try parsed.int64("count") == nil)
            #expect(try parsed.double("cpus") == nil)
            #expect(parsed.string("memory") == nil)
            #expect(parsed.strings("env").isEmpty)
            #expect(!parsed.flag("tty"))
            let error = #expect(throws: UsageError.self) { try parsed.required("memory") }
            #expect(error?.message == "missing --memory")
        }

        /// Docker's booleans: `--flag=false`, `-f=false` (also true, 1, 0, t, f), the last spelling counting.
        @Test(arguments: [
            ([], false), (["--tty"], true), (["-t"], true), (["--tty=false"], false), (["--tty=true"], true),
            (["-t=false"], false), (["-t=true"], true), (["-t=0"], false), (["--tty=1"], true), (["--tty=F"], false),
            (["-it=false"], false), (["--tty", "--tty=false"], false), (["-t=false", "-t"], true),
        ] as [([String], Bool)])
        func flagValues(words: [String], on: Bool) throws {
            let parsed = try exec(words)
            #expect(parsed.flag("tty") == on)
            #expect(parsed.flag("tty", default: true) == (words.isEmpty ? true : on))
        }

        @Test func aShortFlagsValueEndsItsGroup() throws {
            let parsed = try exec(["-it=false"])
            #expect(parsed.flag("interactive"))
            #expect(!parsed.flag("tty"))
            #expect(parsed.positionals == ["sh"])
        }

        @Test func theLastValueCounts() throws {
            let parsed = try exec(["-m", "1m", "--memory=2m"])
            #expect(parsed.string("memory") == "2m")
            #expect(try parsed.required("memory") == "2m")
        }
    }

    @Suite("help") struct Help {
        /// The help text a command line asks for; nil when it asks for none.
        func help(_ words: [String]) throws -> String? {
            if case .help(let text) = try tool.parse(words) { return text }
            return nil
        }

        @Test(arguments: [
            (["-h"], "tool"), (["--help"], "tool"), ([], "tool"), (["-V", "--help", "exec"], "tool"),
            (["exec", "-h"], "tool exec"), (["exec", "--help"], "tool exec"), (["exec", "-ih"], "tool exec"),
            (["--root", "x", "exec", "-i", "--help", "--bogus"], "tool exec"),
            (["copy", "a", "-h"], "tool copy"),
        ])
        func answersAtAnyLevel(words: [String], path: String) throws {
            let text = try #require(try help(words))
            #expect(text.hasPrefix("USAGE: \(path) "))
        }

        /// `berth --version`: the root's own options, no subcommand; the caller reads them alone.
        @Test func rootOptionsWithoutASubcommandAreTheRootsAlone() throws {
            guard case .commands(let levels) = try tool.parse(["-V"]) else {
                Issue.record("-V alone asked for help")
                return
            }
            #expect(levels.count == 1 && levels[0].flag("verbose"))
        }

        @Test func inThePayloadItIsThePayloads() throws {
            #expect(try help(["exec", "sh", "-h"]) == nil)
            #expect(try help(["exec", "--", "--help"]) == nil)
            #expect(try help(["exec", "-e", "-h", "sh"]) == nil)
        }

        @Test func rootHelpListsOptionsAndSubcommands() throws {
            let text = tool.helpText()
            #expect(text == """
                USAGE: tool [OPTIONS] COMMAND

                Do things.

                OPTIONS:
                      --root <dir>  State directory.
                  -V, --verbose     Say more.
                  -h, --help        Show this help.

                SUBCOMMANDS:
                  exec              Run a program.
                  copy              Copy files.

                See 'tool COMMAND --help' for a command's options.
                """)
        }

        @Test func groupsOfCommandsAreListedApart() throws {
            let group = CommandSpec(name: "image", abstract: "Manage images.", usage: "COMMAND",
                                    subcommands: [CommandSpec(name: "ls", abstract: "List images.")])
            let hidden = CommandSpec(name: "secret", abstract: "Not for people.", hidden: true)
            let root = CommandSpec(name: "tool", abstract: "", usage: "COMMAND",
                                   subcommands: [CommandSpec(name: "run", abstract: "Run."), group, hidden])
            #expect(root.helpText().hasSuffix("""
                MANAGEMENT COMMANDS:
                  image       Manage images.

                COMMANDS:
                  run         Run.

                See 'tool COMMAND --help' for a command's options.
                """))
            #expect(group.helpText(path: "tool image").contains("SUBCOMMANDS:\n  ls"))
        }

        @Test func aRenamedCommandParsesAsItsOriginalUnderItsNewName() throws {
            let list = CommandSpec(name: "ps", abstract: "List.", options: [.flag("all", short: "a", help: "All.")])
            let root = CommandSpec(name: "tool", abstract: "", usage: "COMMAND", subcommands: [
                list, CommandSpec(name: "container", abstract: "", usage: "COMMAND", subcommands: [list.named("ls")]),
            ])
            guard case .commands(let levels) = try root.parse(["container", "ls", "-a"]) else {
                Issue.record("no command")
                return
            }
            #expect(levels.map(\.command.name) == ["tool", "container", "ls"])
            #expect(levels[2].flag("all"))
            guard case .help(let text) = try root.parse(["container", "ls", "-h"]) else {
                Issue.record("no help")
                return
            }
            #expect(text.hasPrefix("USAGE: tool container ls [OPTIONS]\n\nList."))
        }

        @Test func subcommandHelpHasUsageDiscussionAndEveryOption() throws {
            let text = try #require(try help(["exec", "--help"]))
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.allSatisfy { $0.count <= 80 })
            #expect(lines.first == "USAGE: tool exec [OPTIONS] [--] PROGRAM [ARG...]")
            #expect(text.contains("\n\nRun a program.\n\n"))
            // The discussion wrapped at 80 columns, its paragraphs kept apart.
            #expect(text.contains("""
                The program runs with the options given, and its exit code becomes the tool's
                own; a program killed by a signal gives 128 plus the signal's number.

                A second paragraph.
                """))
            // Long names line up; a label wider than 28 columns puts its text on the next line.
            #expect(text.contains("""
                OPTIONS:
                  -i, --interactive             Keep stdin open.
                  -t, --tty                     Allocate a terminal.
                  -m, --memory <size>           Memory limit.
                  -e, --env <var>...            Set a variable; this help text is long enough
                                                that it has to wrap onto a second line.
                      --cpus <n>                CPU limit.
                      --count <n>               How many.
                      --a-very-long-option-name <value>
                                                Its help starts on the next line.
                  -h, --help                    Show this help.
                """))
            #expect(!text.contains("SUBCOMMANDS"))
        }

        @Test(arguments: [
            ("one two three", 7, ["one two", "three"]),
            ("a  b\nc", 80, ["a b c"]),
            ("short averyveryverylongword x", 8, ["short", "averyveryverylongword", "x"]),
            ("", 10, []),
        ])
        func wrapping(text: String, width: Int, lines: [String]) {
            #expect(HelpLayout.wrap(text, width: width) == lines)
        }
    }
}
