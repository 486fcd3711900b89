import CommandLineParsing
import Containers
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
        let engine = try global.engine()
        var request = ExecRequest(command: command)
        request.interactive = interactive
        request.tty = tty
        request.env = env
        request.workdir = workdir
        request.user = user
        return try engine.exec(try engine.find(container), request)
    }
}
