import ArgumentParser
import Logging
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth run`: create a container, run its command in the foreground, remove it.
struct Run: ParsableCommand {
    // An explicit name spares ArgumentParser a String(describing:) of the type on every start.
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new container.",
        discussion: """
            The container gets its own pid, mount, uts, ipc, network and cgroup namespaces, a \
            root it cannot leave (pivot_root), Docker's default capabilities, a seccomp filter \
            and no_new_privs. berth exits with the command's exit code (128+N when the command \
            was killed by signal N, 125 when berth failed, 126/127 when the command could not \
            be executed or found).
            """
    )

    @ParentCommand var berth: Berth
    var global: GlobalOptions { berth.global }

    @Option(help: ArgumentHelp("Root filesystem directory for the container.", valueName: "dir"))
    var rootfs: String

    @Flag(name: .shortAndLong, help: "Keep stdin open and pass it to the container.")
    var interactive = false

    @Flag(name: .shortAndLong, help: "Give the container a terminal (a pty).")
    var tty = false

    @Option(name: .long, help: ArgumentHelp("Container hostname (default: the short id).", valueName: "name"))
    var hostname: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Set an environment variable (NAME=value, or NAME to pass berth's own).", valueName: "var"))
    var env: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("Working directory inside the container.", valueName: "dir"))
    var workdir: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("User to run as: uid[:gid] or name[:group].", valueName: "user"))
    var user: String?

    @Option(name: [.customShort("m"), .long], help: ArgumentHelp("Memory limit (e.g. 64m); swap is limited to the same.", valueName: "size"))
    var memory: String?

    @Option(help: ArgumentHelp("CPU limit in cores (e.g. 0.5).", valueName: "n"))
    var cpus: Double?

    @Option(help: ArgumentHelp("Maximum number of processes and threads.", valueName: "n"))
    var pidsLimit: Int64?

    @Flag(help: "Mount the container's root filesystem read-only.")
    var readOnly = false

    @Option(help: ArgumentHelp("Network: none (a new namespace with only lo) or host.", valueName: "mode"))
    var network = "none"

    @Flag(name: .customLong("init"), help: "Run a tiny init as pid 1 that reaps zombies and forwards signals.")
    var useInit = false

    @Option(help: ArgumentHelp("Add a capability (e.g. NET_ADMIN, or ALL).", valueName: "cap"))
    var capAdd: [String] = []

    @Option(help: ArgumentHelp("Drop a capability (e.g. NET_RAW, or ALL).", valueName: "cap"))
    var capDrop: [String] = []

    @Flag(help: "Give the container every capability, no seccomp filter and no masked paths.")
    var privileged = false

    @Option(help: ArgumentHelp("seccomp=unconfined, no-new-privileges[=true|false].", valueName: "opt"))
    var securityOpt: [String] = []

    @Option(name: [.customShort("v"), .long], help: ArgumentHelp("Bind a host path: /host:/container[:ro|rw].", valueName: "bind"))
    var volume: [String] = []

    @Option(help: ArgumentHelp("A resource limit: name=soft[:hard] (e.g. nofile=1024:2048).", valueName: "ulimit"))
    var ulimit: [String] = []

    @Option(help: ArgumentHelp("The cgroup under which the container's cgroup is created.", valueName: "path"))
    var cgroupParent = "berth"

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func validate() throws {
        if command.first == "--" ? command.count < 2 : command.isEmpty {
            throw ValidationError("no command given: berth run --rootfs DIR [options] -- COMMAND [ARG...]")
        }
        // The command starts at the first word that is not an option; a word that looks like an
        // option there is a misspelt or unknown flag, not a program called "--rm".
        if let first = command.first, first != "--", first.hasPrefix("-") {
            throw ValidationError("unknown option \"\(first)\" (put the command after --, or see berth run --help)")
        }
        guard network == "none" || network == "host" else {
            throw ValidationError("unknown network \"\(network)\": use none or host")
        }
        // The kernel's smallest CFS quota is 1 ms per 100 ms period.
        if let cpus, !(cpus >= 0.01 && cpus <= 1024) {
            throw ValidationError("--cpus must be a number of cores from 0.01 to 1024")
        }
        if let pidsLimit, pidsLimit < 1 { throw ValidationError("--pids-limit must be at least 1") }
        if let workdir, !workdir.hasPrefix("/") {
            throw ValidationError("--workdir must be an absolute path inside the container")
        }
    }

    func run() throws {
        let logger = global.makeLogger()
        let runtime = try HostRuntime(global: global, cgroupParent: cgroupParent, logger: logger)
        let config = try makeConfig()
        let session = ContainerSession(runtime: runtime, config: config, interactive: interactive, tty: tty)
        if global.debug { session.printPlan() }
        let outcome = try session.run()
        throw ExitCode(outcome)
    }
}
