import CommandLineParsing
import FileSystem
import JSON
import OCIRuntime
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Each command: its arguments read, one call into `OCIRuntime`, its output printed.
enum OCICommands {
    static func run(_ command: ParsedArguments, runtime: OCIRuntime) throws -> Int32 {
        switch command.command.name {
        case "spec": return try spec(command)
        case "create":
            let (id, options) = try createArguments(command)
            try runtime.create(id: id, bundle: options.bundle, pidFile: options.pidFile,
                               consoleSocket: command.string("console-socket"), io: stdio)
        case "run": return try runContainer(command, runtime: runtime)
        case "start": try runtime.start(id: try onlyID(command))
        case "state": OCIOutput.writeLine(STDOUT_FILENO, try runtime.state(id: try onlyID(command)).serialized(pretty: true))
        case "list": try list(command, runtime: runtime)
        case "kill":
            guard (1...2).contains(command.positionals.count) else { throw UsageError("kill takes a container id and an optional signal") }
            let name = command.positionals.count == 2 ? command.positionals[1] : "TERM"
            guard let signal = SignalName.number(name) else { throw UsageError("\"\(name)\" is not a signal: give TERM, SIGKILL or 9") }
            try runtime.kill(id: command.positionals[0], signal: signal, all: command.flag("all"))
        case "delete": try runtime.delete(id: try onlyID(command), force: command.flag("force"))
        case "ps": try ps(command, runtime: runtime)
        case "pause": try runtime.pause(id: try onlyID(command))
        case "resume": try runtime.resume(id: try onlyID(command))
        case "update": try update(command, runtime: runtime)
        case "exec": return try exec(command, runtime: runtime)
        case "features": OCIOutput.writeLine(STDOUT_FILENO, OCIRuntime.features.serialized(pretty: true))
        default: throw UsageError("unknown command \(command.command.name)")
        }
        return 0
    }

    /// The container's stdio is berth-oci's own, as runc passes it on (conmon and the shim give
    /// pipes or files there).
    static var stdio: LaunchIO { LaunchIO(stdin: STDIN_FILENO, stdout: STDOUT_FILENO, stderr: STDERR_FILENO) }

    static func onlyID(_ command: ParsedArguments) throws(UsageError) -> String {
        guard command.positionals.count == 1 else {
            throw UsageError("\(command.command.name) takes exactly one container id, not \(command.positionals.count) arguments")
        }
        return command.positionals[0]
    }

    static func createArguments(_ command: ParsedArguments) throws -> (id: String, options: (bundle: String, pidFile: String?)) {
        let id = try onlyID(command)
        if let fds = command.string("preserve-fds"), fds != "0" {
            throw UsageError("--preserve-fds \(fds) is not supported: berth-oci passes stdio only")
        }
        return (id, (command.string("bundle") ?? ".", command.string("pid-file")))
    }

    static func runContainer(_ command: ParsedArguments, runtime: OCIRuntime) throws -> Int32 {
        let (id, options) = try createArguments(command)
        let detach = command.flag("detach")
        if !detach { OCIRuntime.prepareForegroundRun() }
        let record = try runtime.create(id: id, bundle: options.bundle, pidFile: options.pidFile,
                                        consoleSocket: command.string("console-socket"), io: stdio)
        try runtime.start(id: id)
        if detach { return 0 }
        // berth-oci made the process, so it is its child: its exit status is ours.
        let status = try runtime.waitForExit(record)
        if !command.flag("keep") { try runtime.delete(id: id, force: true) }
        return status.code
    }

    static func spec(_ command: ParsedArguments) throws -> Int32 {
        if command.flag("rootless") { throw UsageError("--rootless is not supported: berth-oci writes a spec for root only") }
        let path = (command.string("bundle") ?? ".") + "/config.json"
        guard access(path, F_OK) != 0 else {
            throw UsageError("\(path) already exists: remove it or give another directory with --bundle")
        }
        let bytes = try JSON.encode(OCIRuntimeSpec.runcDefault, pretty: true) + Array("\n".utf8)
        do { try AtomicFile.replace(path, with: bytes, durable: false) } catch {
            throw RuntimeError(.systemError, "cannot write \(path): \(error.reason)")
        }
        return 0
    }

    static func list(_ command: ParsedArguments, runtime: OCIRuntime) throws {
        let containers = try runtime.list()
        if command.flag("quiet") {
            for container in containers { OCIOutput.writeLine(STDOUT_FILENO, container.id) }
            return
        }
        switch command.string("format") ?? "table" {
        case "json":
            let items = containers.compactMap { container -> JSONValue? in
                container.record.map { OCIRuntime.listJSON($0, status: container.status) }
            }
            OCIOutput.writeLine(STDOUT_FILENO, JSONValue.array(items).serialized())
        case "table":
            var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            for container in containers {
                let record = container.record
                rows.append([container.id, container.status == .stopped ? "0" : "\(record?.pid ?? 0)",
                             container.status.rawValue, record?.bundle ?? "", record?.created ?? "", "root"])
            }
            OCIOutput.write(STDOUT_FILENO, OCITable.render(rows))
        case let other: throw UsageError("--format must be table or json, not \"\(other)\"")
        }
    }

    static func ps(_ command: ParsedArguments, runtime: OCIRuntime) throws {
        let pids = try runtime.processes(id: try onlyID(command))
        switch command.string("format") ?? "table" {
        case "json": OCIOutput.writeLine(STDOUT_FILENO, JSONValue.array(pids.map { .number(JSONNumber($0)) }).serialized())
        case "table": OCIOutput.write(STDOUT_FILENO, OCITable.render([["PID"]] + pids.map { ["\($0)"] }))
        case let other: throw UsageError("--format must be table or json, not \"\(other)\"")
        }
    }

    static func update(_ command: ParsedArguments, runtime: OCIRuntime) throws {
        let id = try onlyID(command)
        var limits = ResourceLimits()
        if let file = command.string("resources") {
            let bytes = file == "-" ? try FileIO.readAll(STDIN_FILENO, path: "stdin") : try FileIO.readFile(file)
            limits = try OCIRuntime.limits(from: JSON.decode(OCIRuntimeSpec.Linux.Resources.self, from: bytes))
        }
        if let memory = try command.int64("memory") { limits.memoryBytes = memory }
        if let quota = try command.int64("cpu-quota") {
            limits.cpu = CPUBandwidth(quotaMicros: quota, periodMicros: try command.int64("cpu-period") ?? 100_000)
        }
        if let shares = try command.int64("cpu-share") {
            // The range itself is checked with the spec's shares, when the limits are applied.
            guard shares >= 0 else { throw UsageError("--cpu-share must be 2 to 262144, not \(shares)") }
            limits.cpuShares = UInt64(shares)
        }
        if let pids = try command.int64("pids-limit") { limits.pidsLimit = pids }
        try runtime.update(id: id, limits: limits)
    }

    static func exec(_ command: ParsedArguments, runtime: OCIRuntime) throws -> Int32 {
        guard let id = command.positionals.first else { throw UsageError("exec takes a container id and a command (or --process)") }
        if let fds = command.string("preserve-fds"), fds != "0" {
            throw UsageError("--preserve-fds \(fds) is not supported: berth-oci passes stdio only")
        }
        var process: OCIRuntimeSpec.Process
        if let file = command.string("process") {
            process = try JSON.decode(OCIRuntimeSpec.Process.self, from: try FileIO.readFile(file))
        } else {
            let args = Array(command.positionals.dropFirst())
            guard !args.isEmpty else { throw UsageError("exec needs a command, or a process.json given with --process") }
            process = try runtime.defaultProcess(id: id)
            process.args = args
        }
        if command.flag("tty") { process.terminal = true }
        if let cwd = command.string("cwd") { process.cwd = cwd }
        process.env = (process.env ?? []) + command.strings("env")
        if let user = command.string("user") {
            let parts = user.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, let uid = UInt32(parts[0]), let gid = parts.count == 2 ? UInt32(parts[1]) : 0 else {
                throw UsageError("--user takes UID[:GID] as numbers, not \"\(user)\"")
            }
            process.user = .init(uid: uid, gid: gid)
        }
        let pid = try runtime.exec(id: id, process: process, pidFile: command.string("pid-file"),
                                   consoleSocket: command.string("console-socket"), io: stdio)
        if command.flag("detach") { return 0 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ExitStatus(waitStatus: status).code
    }
}
