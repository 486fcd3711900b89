import CommandLineParsing
import Containers
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth stop`.
struct StopContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "stop", abstract: "Stop running containers (the stop signal, then SIGKILL after a grace period).",
        usage: "[OPTIONS] CONTAINER [CONTAINER...]",
        options: [.value("time", short: "t", valueName: "seconds", help: "Seconds to wait before SIGKILL. (default: 10)")])

    let global: GlobalOptions
    let names: [String]
    let timeout: Int

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        timeout = try stopTimeout(parsed)
        if names.isEmpty { throw UsageError("stop needs at least one container name or id") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        return forEach(names) { name in try engine.stop(try engine.find(name), timeout: timeout) }
    }
}

/// `berth start`; with `-a`, the one container's output until it ends (`attach`), from its
/// start on, and its exit code as berth's.
struct StartContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "start", abstract: "Start created or stopped containers in the background.", usage: "[OPTIONS] CONTAINER [CONTAINER...]",
        options: [.flag("attach", short: "a", help: "Show the container's output until it ends, passing it berth's signals; exit with its code.")])

    let global: GlobalOptions
    let names: [String]
    let attach: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        attach = parsed.flag("attach")
        if names.isEmpty { throw UsageError("start needs at least one container name or id") }
        if attach && names.count > 1 { throw UsageError("start -a takes one container: one output is shown at a time") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        guard attach else { return forEach(names) { name in try engine.start(try engine.find(name)) } }
        let record = try engine.find(names[0])
        // Taken before the start, so that the output of its first moments is shown too.
        let position = ContainerLog(path: engine.store.logPath(of: record.id)).position()
        try engine.start(record)
        return try AttachContainer.attach(record, engine, from: .after(position), proxySignals: true)
    }
}

/// A command that takes only container names and does one engine call on each of them (start,
/// pause, unpause): the names are required, each is printed once done, a failure is reported
/// and the next one is still done.
protocol ContainerNamesCommand: BerthCommand {
    var global: GlobalOptions { get }
    var names: [String] { get }
    init(global: GlobalOptions, names: [String])
    static func act(on record: ContainerRecord, _ engine: ContainerEngine) throws
}

extension ContainerNamesCommand {
    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        if parsed.positionals.isEmpty { throw UsageError("\(Self.spec.name) needs at least one container name or id") }
        self.init(global: global, names: parsed.positionals)
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        return forEach(names) { name in try Self.act(on: try engine.find(name), engine) }
    }
}

/// `berth restart`: stop, then start.
struct RestartContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "restart", abstract: "Stop and start containers again.", usage: "[OPTIONS] CONTAINER [CONTAINER...]",
        options: [.value("time", short: "t", valueName: "seconds", help: "Seconds to wait before SIGKILL. (default: 10)")])

    let global: GlobalOptions
    let names: [String]
    let timeout: Int

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        timeout = try stopTimeout(parsed)
        if names.isEmpty { throw UsageError("restart needs at least one container name or id") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        return forEach(names) { name in try engine.restart(try engine.find(name), timeout: timeout) }
    }
}

/// `berth kill`.
struct KillContainers: BerthCommand {
    static let spec = CommandSpec(
        name: "kill", abstract: "Send a signal to running containers.", usage: "[OPTIONS] CONTAINER [CONTAINER...]",
        options: [.value("signal", short: "s", valueName: "signal", help: "The signal (name or number). (default: KILL)")])

    let global: GlobalOptions
    let names: [String]
    let signal: Int32

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        let text = parsed.string("signal") ?? "KILL"
        guard let number = SignalName.number(text) else { throw UsageError("unknown signal \"\(text)\"") }
        signal = number
        if names.isEmpty { throw UsageError("kill needs at least one container name or id") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        return forEach(names) { name in try engine.kill(try engine.find(name), signal: signal) }
    }
}

/// `-t/--time`: the grace period of stop and restart.
private func stopTimeout(_ parsed: ParsedArguments) throws(UsageError) -> Int {
    let time = try parsed.int64("time") ?? 10
    guard time >= 0, time <= 86400 else { throw UsageError("--time must be 0 to 86400 seconds") }
    return Int(time)
}

/// Runs `body` for each name, printing the name when it worked and the error when not (Docker's
/// way for commands that take several containers). Returns 1 when any failed.
func forEach(_ names: [String], _ body: (String) throws -> Void) -> Int32 {
    forEachReportingFailures(names) { name in
        try body(name)
        Output.print(name)
    }
}

/// Runs `body` for each name, going on after a failure: each failure is one line on stderr, and
/// the result is 1 when any failed.
func forEachReportingFailures(_ names: [String], _ body: (String) throws -> Void) -> Int32 {
    var failed = false
    for name in names {
        do {
            try body(name)
        } catch {
            Output.error(error)
            failed = true
        }
    }
    return failed ? 1 : 0
}

/// `berth monitor-exit` (hidden): what a container's monitor process runs when the container has
/// ended (see `ContainerEngine.monitorExit`).
struct MonitorExit: BerthCommand {
    static let spec = CommandSpec(
        name: "monitor-exit", abstract: "Record a detached container's end (run by its monitor).",
        usage: "CONTAINER --lock-fd FD --exit-status N",
        options: [
            .value("lock-fd", valueName: "fd", help: "The container's runtime lock, held."),
            .value("exit-status", valueName: "n", help: "The exit code, or 128+signal."),
        ],
        hidden: true)

    let global: GlobalOptions
    let id: String
    let lockFD: Int32
    let exitStatus: Int32

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1 else { throw UsageError("monitor-exit takes one container id") }
        id = parsed.positionals[0]
        guard let fd = Int32(try parsed.required("lock-fd")), let status = Int32(try parsed.required("exit-status")) else {
            throw UsageError("monitor-exit: --lock-fd and --exit-status take numbers")
        }
        lockFD = fd
        exitStatus = status
    }

    func run() throws -> Int32 {
        try global.engine().monitorExit(id: id, lockFD: lockFD, exitStatus: exitStatus)
        return 0
    }
}
