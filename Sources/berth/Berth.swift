import CommandLineParsing
import FileSystem

/// One of berth's subcommands: its spec, how it reads its parsed options, and what it does.
protocol BerthCommand: Sendable {
    static var spec: CommandSpec { get }
    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError)
    /// Does the command's work and returns berth's exit code.
    func run() throws -> Int32
    /// Whether the command supervises a process (and so takes signals from a signalfd).
    static var supervisesProcess: Bool { get }
    /// The exit code when the command fails (a requirement, so a command's own is the one used).
    static var failureCode: Int32 { get }
}

extension BerthCommand {
    /// The exit code when the command fails: Docker's 125 for `run` (whose own codes are the
    /// container's), 1 for the others.
    static var failureCode: Int32 { 1 }

    static var supervisesProcess: Bool { false }
}

/// The `berth` command: its global options and its subcommands, and the dispatch from a
/// command line to the subcommand it asks for.
enum Berth {
    /// Every command, by its path below berth ("run", "image prune"); `aliases` adds the
    /// management commands' other paths to them (`container ls`).
    static let commands: [(path: String, type: any BerthCommand.Type)] = [
        ("run", Run.self),
        ("ps", ListContainers.self),
        ("rm", RemoveContainers.self),
        ("diff", DiffContainer.self),
        ("commit", CommitContainer.self),
        ("inspect", Inspect.self),
        ("stop", StopContainers.self),
        ("start", StartContainers.self),
        ("attach", AttachContainer.self),
        ("restart", RestartContainers.self),
        ("kill", KillContainers.self),
        ("pause", PauseContainers.self),
        ("unpause", UnpauseContainers.self),
        ("exec", ExecCommand.self),
        ("logs", ContainerLogs.self),
        ("monitor-exit", MonitorExit.self),
        ("health-check", HealthCheckCommand.self),
        ("stats", StatsCommand.self),
        ("import", ImportImage.self),
        ("build", BuildImage.self),
        ("builder prune", PruneBuildCache.self),
        ("images", ListImages.self),
        ("pull", PullImage.self),
        ("push", PushImage.self),
        ("login", LoginRegistry.self),
        ("logout", LogoutRegistry.self),
        ("history", ImageHistory.self),
        ("tag", TagImage.self),
        ("rmi", RemoveImages.self),
        ("save", SaveImages.self),
        ("load", LoadImages.self),
        ("image prune", PruneImages.self),
        ("port", ContainerPorts.self),
        ("network create", CreateNetwork.self),
        ("network ls", ListNetworks.self),
        ("network inspect", InspectNetworks.self),
        ("network rm", RemoveNetworks.self),
        ("network prune", PruneNetworks.self),
        ("version", VersionCommand.self),
        ("info", InfoCommand.self),
        ("create", CreateContainer.self),
        ("wait", WaitContainers.self),
        ("rename", RenameContainer.self),
        ("top", TopContainer.self),
        ("update", UpdateContainers.self),
        ("export", ExportContainer.self),
        ("cp", CopyCommand.self),
        ("container prune", PruneContainers.self),
        ("system df", SystemDiskUsage.self),
        ("system prune", PruneSystem.self),
        ("volume create", CreateVolume.self),
        ("volume ls", ListVolumes.self),
        ("volume inspect", InspectVolumes.self),
        ("volume rm", RemoveVolumes.self),
        ("volume prune", PruneVolumes.self),
        ("completion", CompletionCommand.self),
        ("compose up", ComposeUp.self),
        ("compose down", ComposeDown.self),
        ("compose ps", ComposePs.self),
        ("compose logs", ComposeLogs.self),
        ("compose config", ComposeConfig.self),
        ("compose build", ComposeBuild.self),
        ("compose deploy", ComposeDeploy.self),
        ("compose rollback", ComposeRollback.self),
    ]

    /// berth's commands as its help lists them; each one's spec is made when a command line, the
    /// help or a completion script asks for it (`subcommand(named:)`), so that a `run` does not
    /// build the sixty others'.
    static let topLevelNames = [
        "run", "create", "ps", "rm", "diff", "commit", "inspect", "stop", "start", "attach", "restart", "kill", "pause", "unpause", "wait",
        "rename", "top", "update", "export", "cp", "exec", "logs", "monitor-exit", "health-check", "stats",
        "build", "import", "pull", "push", "login", "logout", "images", "history", "tag", "rmi", "save", "load", "info", "version",
        "port", "completion",
        "container", "image", "network", "volume", "system", "builder",
        "compose",
    ]

    static let spec = CommandSpec(
        name: "berth",
        abstract: "Run applications in isolated containers.",
        usage: "[OPTIONS] COMMAND",
        options: GlobalOptions.options,
        subcommandNames: topLevelNames,
        subcommand: subcommand(named:)
    )

    /// The spec of the command `name` names at berth's top level: a command, a management
    /// command's group (`container`, `image`, ...) or compose's.
    static func subcommand(named name: String) -> CommandSpec {
        if name == "compose" { return ComposeOptions.spec }
        if let type = command(at: name) { return type.spec }
        return noun(name)
    }

    /// What a command line asks berth to do.
    enum Invocation {
        /// Print this help and exit 0.
        case help(String)
        case run(Run)
        case command(any BerthCommand)

        /// Whether berth blocks the forwarded signals before it runs the command.
        var supervisesProcess: Bool {
            switch self {
            case .help: false
            case .run: true
            case .command(let command): type(of: command).supervisesProcess
            }
        }
    }

    /// Parses and validates `arguments` (the words after the program's name).
    static func parse(_ arguments: [String]) throws(UsageError) -> Invocation {
        switch try spec.parse(arguments) {
        case .help(let text):
            return .help(text)
        case .commands(let levels):
            // The parser returns berth's level first, then one per (sub)command.
            let global = try GlobalOptions(levels[0])
            // --version answers alone, whatever follows it (as docker's); berth's other options
            // without a command ask for its help.
            if global.version { return .help(VersionCommand.oneLine) }
            guard levels.count > 1 else { return .help(spec.helpText()) }
            let command = levels[levels.count - 1]
            let path = levels.dropFirst().map { $0.command.name }.concatenated(separator: " ")
            guard let found = Berth.command(at: path) else {
                throw UsageError("unknown command \"\(path)\" (see berth --help)")
            }
            if found == Run.self { return .run(try Run(global: global, command)) }
            // compose's own options (-f, -p) are on the level between berth's and the command's.
            // The cast is asked only under compose: it walks every conformance record the first
            // time, which an exec would pay for nothing.
            if levels.count > 2, levels[1].command.name == "compose",
               let composeCommand = found as? any ComposeCommand.Type {
                return .command(try composeCommand.init(global: global, compose: ComposeOptions(levels[levels.count - 2]), command))
            }
            return .command(try found.init(global: global, command))
        }
    }
}
