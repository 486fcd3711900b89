import CommandLineParsing
import Containers
import CSpawn
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth exec`: a command inside a running container, with its namespaces, cgroup, user,
/// environment, working directory and security settings; -it gives it a pty of its own.
struct ExecCommand: BerthCommand {
    static let spec = CommandSpec(
        name: "exec", abstract: "Run a command in a running container.",
        usage: "[OPTIONS] CONTAINER COMMAND [ARG...]",
        options: [
            .flag("interactive", short: "i", help: "Keep stdin open and pass it to the command."),
            .flag("tty", short: "t", help: "Give the command a terminal (a pty)."),
            .repeatable("env", short: "e", valueName: "var", help: "Set an environment variable (NAME=value)."),
            .value("workdir", short: "w", valueName: "dir", help: "Working directory inside the container."),
            .value("user", short: "u", valueName: "user", help: "User to run as: uid[:gid] or name[:group]."),
        ],
        stopsAtFirstPositional: true)
    static let supervisesProcess = true

    let global: GlobalOptions
    let container: String
    let command: [String]
    let interactive: Bool
    let tty: Bool
    let env: [String]
    let workdir: String?
    let user: String?

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count >= 2 else {
            throw UsageError("exec needs a container and a command: berth exec [options] CONTAINER COMMAND [ARG...]")
        }
        container = parsed.positionals[0]
        command = Array(parsed.positionals.dropFirst())
        interactive = parsed.flag("interactive")
        tty = parsed.flag("tty")
        env = parsed.strings("env")
        workdir = parsed.string("workdir")
        user = parsed.string("user")
        if let workdir, !workdir.hasPrefix("/") {
            throw UsageError("--workdir must be an absolute path inside the container")
        }
    }

    func run() throws -> Int32 {
        let control = try ContainerControl(global: global)
        let record = try control.context.store.find(container)
        let pidfd = try control.openInit(record)
        defer { close(pidfd) }

        let logger = global.makeLogger()
        let runtime = try HostRuntime(global: global, cgroupParent: record.hostConfig.cgroupParent, logger: logger)
        let config = try makeConfig(record, root: "/proc/\(record.state.pid)/root")
        return try ExecSession(runtime: runtime, config: config, interactive: interactive,
                               containerRoot: "/proc/\(record.state.pid)/root")
            .run(joining: pidfd, cgroup: CgroupPath(record.hostConfig.cgroup))
    }

    /// The container's own settings (those `run` gave it), then exec's flags over them.
    private func makeConfig(_ record: ContainerRecord, root: String) throws -> ContainerConfig {
        let run = try Run.recreate(from: record, global: global)
        let userSpec = user ?? record.config.user
        var config = try run.makeConfig(
            id: record.id, rootfs: root, args: command,
            image: ImageDefaults(env: record.config.env, workingDir: record.config.workingDir, user: userSpec),
            fileRoots: [root])
        if let user { config.user = try UserSpec.resolve(user, roots: [root]) }
        if let workdir { config.workingDirectory = workdir }
        config.terminal = tty
        config.useInit = false
        config.env.removeAll { $0.hasPrefix("TERM=") }
        if tty { config.env.append("TERM=xterm") }
        config.env = applying(environmentFlags(env), to: config.env)
        return config
    }
}

/// One exec'd process in the foreground: its terminal, its launch into the container, and the
/// wait (signals forwarded, the pty relayed). It owns nothing the container does not.
struct ExecSession {
    let runtime: HostRuntime
    let config: ContainerConfig
    let interactive: Bool
    /// The container's root as the host sees it: its devpts gives -t's terminal.
    let containerRoot: String

    func run(joining pidfd: Int32, cgroup: CgroupPath) throws -> Int32 {
        let terminal = config.terminal ? try PseudoTerminal(inContainerRoot: containerRoot) : nil
        defer { terminal?.closeMaster() }
        var devNull: Int32 = -1
        defer { if devNull >= 0 { close(devNull) } }
        let io: LaunchIO
        if let terminal {
            io = LaunchIO(stdin: terminal.slave, stdout: terminal.slave, stderr: terminal.slave,
                          terminalPath: terminal.slavePath)
        } else {
            if !interactive {
                devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard devNull >= 0 else { throw RuntimeError.system("cannot open /dev/null") }
            }
            io = LaunchIO(stdin: interactive ? STDIN_FILENO : devNull, stdout: STDOUT_FILENO, stderr: STDERR_FILENO)
        }
        let rawMode = terminal != nil && interactive ? RawTerminalMode(fd: STDIN_FILENO) : nil
        defer { rawMode?.restore() }
        let process = try runtime.launcher.exec(config, joining: pidfd, cgroup: cgroup, io: io)
        defer { if process.pidfd >= 0 { close(process.pidfd) } }
        let status = try ContainerSupervisor(container: process, terminal: terminal, relayStdin: interactive).wait()
        return status.code
    }
}
