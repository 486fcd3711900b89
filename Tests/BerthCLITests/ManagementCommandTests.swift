import CommandLineParsing
import Testing
@testable import berth

/// Docker's management commands: `berth container ls` is `berth ps`, reached through the same
/// command type, and `berth --help` lists the nouns apart.
@Suite("management commands") struct ManagementCommandTests {
    /// The command type a whole command line asks for.
    static func type(of arguments: [String]) throws -> Any.Type {
        switch try Berth.parse(arguments) {
        case .run(let run): return Swift.type(of: run)
        case .command(let command): return Swift.type(of: command)
        case .help: throw UsageError("\(arguments) gave help")
        }
    }

    /// The smallest arguments each command accepts, so that parsing reaches its type.
    static func arguments(for path: String) -> [String] {
        switch path.split(separator: " ").last ?? "" {
        case "run": ["--rootfs", "/r", "sh"]
        case "create": ["busybox"]
        case "cp": ["a:/x", "/y"]
        case "exec": ["a", "sh"]
        case "rename", "tag": ["a", "b"]
        case "ps", "ls", "images", "info", "stats", "prune", "df": []
        case "update": ["--pids-limit", "10", "a"]
        case "export", "save": ["-o", "/x", "a"]
        case "load": ["-i", "/x"]
        case "import": ["/r", "i"]
        default: ["a"]
        }
    }

    /// Docker's management paths and the short forms they are, written out here apart from
    /// berth's table so that a wrong entry there fails.
    static let docker: [(path: String, shortForm: String)] = [
        ("container run", "run"), ("container create", "create"), ("container ls", "ps"), ("container ps", "ps"),
        ("container rm", "rm"), ("container start", "start"), ("container attach", "attach"), ("container stop", "stop"),
        ("container restart", "restart"), ("container kill", "kill"), ("container pause", "pause"),
        ("container unpause", "unpause"), ("container wait", "wait"), ("container rename", "rename"),
        ("container top", "top"), ("container update", "update"), ("container export", "export"),
        ("container cp", "cp"), ("container exec", "exec"), ("container logs", "logs"), ("container stats", "stats"),
        ("container inspect", "inspect"), ("container diff", "diff"), ("container commit", "commit"),
        ("container port", "port"), ("image ls", "images"), ("image rm", "rmi"), ("image tag", "tag"),
        ("image history", "history"), ("image inspect", "inspect"), ("image save", "save"), ("image load", "load"),
        ("image import", "import"), ("image build", "build"), ("image pull", "pull"), ("image push", "push"), ("system info", "info"),
    ]

    @Test func everyAliasIsDockers() {
        #expect(Berth.aliases.map(\.path).sorted() == Self.docker.map(\.path).sorted())
    }

    @Test("every alias runs its short form's type", arguments: docker.map { [$0.path, $0.shortForm] })
    func aliasResolvesToItsShortForm(pair: [String]) throws {
        let (path, shortForm) = (pair[0], pair[1])
        let expected = try #require(Berth.commands.first { $0.path == shortForm }, "\(shortForm) is no command")
        let words = path.split(separator: " ").map(String.init)
        #expect(try Self.type(of: words + Self.arguments(for: path)) == expected.type, "berth \(path)")
        #expect(try Self.type(of: [shortForm] + Self.arguments(for: shortForm)) == expected.type, "berth \(shortForm)")
    }

    /// berth's commands are named in one list and each one's spec made when asked for: every
    /// name makes the spec of that name, and every command is reachable from one of them.
    @Test("the top-level names make specs of those names, and reach every command")
    func topLevelNamesMakeTheirSpecs() throws {
        #expect(Berth.spec.subcommands.map(\.name) == Berth.topLevelNames)
        #expect(Set(Berth.topLevelNames).count == Berth.topLevelNames.count)
        for (path, _) in Berth.commands {
            let first = String(path.split(separator: " ")[0])
            #expect(Berth.topLevelNames.contains(first), "\(path) cannot be reached")
        }
        guard case .help(let text) = try Berth.parse(["--help"]) else {
            Issue.record("no help")
            return
        }
        for name in Berth.topLevelNames where name != "monitor-exit" && name != "health-check" {
            #expect(text.contains("\n  \(name) "), "\(name) missing from berth --help")
        }
    }

    @Test("an alias has its short form's options and says its own name")
    func aliasKeepsOptions() throws {
        guard case .help(let text) = try Berth.parse(["container", "ls", "--help"]) else {
            Issue.record("no help")
            return
        }
        #expect(text.hasPrefix("USAGE: berth container ls "))
        for option in ListContainers.spec.options {
            #expect(text.contains("--" + option.long), "--\(option.long) missing from container ls's help")
        }
        let ls = try #require(Berth.spec.subcommands.first { $0.name == "container" }?.subcommands.first { $0.name == "ls" })
        #expect(ls.options.map(\.long) == ListContainers.spec.options.map(\.long))
    }

    @Test("each noun lists Docker's subcommands", arguments: [
        ("container", ["run", "create", "ls", "ps", "rm", "start", "attach", "stop", "restart", "kill", "pause", "unpause",
                       "wait", "rename", "top", "update", "export", "cp", "exec", "logs", "stats", "inspect",
                       "diff", "commit", "port", "prune"]),
        ("image", ["ls", "rm", "tag", "history", "inspect", "save", "load", "import", "build", "pull", "push", "prune"]),
        ("network", ["create", "ls", "inspect", "rm", "prune"]),
        ("volume", ["create", "ls", "inspect", "rm", "prune"]),
        ("system", ["df", "prune", "info"]),
        ("builder", ["prune"]),
    ])
    func nounsSubcommands(noun: String, expected: [String]) throws {
        let spec = try #require(Berth.spec.subcommands.first { $0.name == noun })
        #expect(Set(spec.subcommands.map(\.name)) == Set(expected))
        guard case .help(let text) = try Berth.parse([noun, "--help"]) else {
            Issue.record("no help for \(noun)")
            return
        }
        for name in expected {
            #expect(text.contains("\n  \(name) "), "\(name) missing from berth \(noun) --help")
        }
    }

    @Test("berth --help lists the management commands apart, and no hidden command")
    func helpGroups() throws {
        guard case .help(let text) = try Berth.parse(["--help"]) else {
            Issue.record("no help")
            return
        }
        let management = try #require(text.range(of: "MANAGEMENT COMMANDS:\n"))
        let commands = try #require(text.range(of: "\nCOMMANDS:\n"))
        #expect(management.upperBound < commands.lowerBound)
        let managementBlock = text[management.upperBound..<commands.lowerBound]
        let commandsBlock = text[commands.upperBound...]
        let listed = { (block: Substring) in
            block.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
                .compactMap { $0.split(separator: " ").first.map(String.init) }
        }
        #expect(listed(managementBlock) == ["container", "image", "network", "volume", "system", "builder", "compose"])
        let others = listed(commandsBlock)
        for name in ["run", "ps", "images", "info", "completion"] { #expect(others.contains(name)) }
        for hidden in ["monitor-exit", "health-check"] {
            #expect(!text.contains(hidden), "\(hidden) is listed")
        }
        #expect(!text.contains("SUBCOMMANDS:"))
    }

    @Test func unknownSubcommandOfANounIsAUsageError() {
        let error = #expect(throws: UsageError.self) { try Berth.parse(["container", "frobnicate"]) }
        #expect(error?.message == "unknown command \"frobnicate\" for berth container (see berth container --help)")
    }
}
