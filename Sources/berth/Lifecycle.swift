import CommandLineParsing
import CSpawn
import Containers
import ImageStore
import Logging
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Starting, stopping and signalling the containers of a state root.
struct ContainerControl {
    let context: ContainerContext
    let global: GlobalOptions

    init(global: GlobalOptions) throws {
        self.global = global
        context = try ContainerContext(global: global)
    }

    func isRunning(_ record: ContainerRecord) -> Bool { context.runDirectory.isHeld(id: record.id) }

    /// Sends `signal` to the container's init (running containers only).
    func signal(_ record: ContainerRecord, _ signal: Int32) throws {
        let pidfd = try openInit(record)
        defer { close(pidfd) }
        guard berth_pidfd_send_signal(pidfd, signal) == 0 || errno == ESRCH else {
            throw ContainerError(.systemError, "cannot signal container \(record.name): \(String(cString: strerror(errno)))")
        }
    }

    /// A pidfd for the container's init, to signal it or join its namespaces; refused unless
    /// the container runs.
    ///
    /// The pid cannot be another process's: a detached container's monitor keeps its init a
    /// zombie until the record says it ended (a foreground `run` reaps it, then writes the
    /// record a moment later, in which moment the pid is freshly free).
    func openInit(_ record: ContainerRecord) throws -> Int32 {
        guard isRunning(record), record.state.pid > 0 else {
            if record.state.status == .restarting {
                throw ContainerError(.conflict, "container \(record.name) is restarting (waiting out its back-off): try again in a moment, or stop it")
            }
            throw ContainerError(.conflict, "container \(record.name) is not running: start it first (berth start \(record.name))")
        }
        let pidfd = berth_pidfd_open(record.state.pid)
        guard pidfd >= 0 else {
            if errno == ESRCH { throw ContainerError(.conflict, "container \(record.name) is not running (its process has ended)") }
            throw ContainerError(.systemError, "cannot open container \(record.name)'s process: \(String(cString: strerror(errno)))")
        }
        return pidfd
    }

    /// Docker's stop: the stop signal, `timeout` seconds, SIGKILL, then a wait for the monitor to
    /// record the end; a container still there after that has its whole cgroup killed. The
    /// container is marked as stopped on purpose first, so a restart policy never starts it
    /// again behind the user's back.
    func stop(_ record: ContainerRecord, timeout: Int) throws {
        context.store.markStopping(record.id)
        guard isRunning(record) else { return }
        let first = stopSignal(of: record)
        if timeout > 0 {
            signalCurrent(record, first)
            if waitUntilStopped(record, milliseconds: timeout * 1000) { return }
        }
        signalCurrent(record, SIGKILL)
        if waitUntilStopped(record, milliseconds: 5_000) { return }
        // A process SIGKILL does not end (a half-started container, one in a frozen cgroup):
        // the cgroup's removal kills everything in it, and the monitor then sees its init end.
        let driver = makeCgroupDriver()
        try? driver.destroy(CgroupPath(record.hostConfig.cgroup))
        if waitUntilStopped(record, milliseconds: 5_000) { return }
        throw ContainerError(.systemError, "container \(record.name) did not stop within 10 seconds of SIGKILL")
    }

    /// The signal `stop` sends first: the image's or `run`'s StopSignal, SIGTERM without one.
    func stopSignal(of record: ContainerRecord) -> Int32 {
        record.config.stopSignal.flatMap(SignalName.number) ?? SIGTERM
    }

    /// Signals the container's init as its record says now: a container being started has no
    /// pid in the record it was read from yet.
    private func signalCurrent(_ record: ContainerRecord, _ number: Int32) {
        let current = (try? context.store.load(id: record.id)) ?? record
        try? signal(current, number)
    }

    /// Polls for the monitor to let go of the container's lock.
    func waitUntilStopped(_ record: ContainerRecord, milliseconds: Int) -> Bool {
        var waited = 0
        while isRunning(record) {
            guard waited < milliseconds else { return false }
            usleep(20_000)
            waited += 20
        }
        return true
    }

    /// Starts a created or exited container again, in the background, with its own upper dir.
    /// A start by hand gives the restart policy its full count again (Docker's rule).
    func start(_ record: ContainerRecord) throws {
        guard !isRunning(record) else { return }
        context.store.clearStopping(record.id)
        var record = record
        record.restartCount = 0
        record.backOffStep = 0
        let runtime = try HostRuntime(global: global, cgroupParent: record.hostConfig.cgroupParent, logger: global.makeLogger())
        let config = try Run.recreateConfig(of: record, global: global, containers: context.store)
        try DetachedLauncher(global: global, runtime: runtime, containers: context.store).start(record, config: config)
    }
}

extension Run {
    /// The `run` a container was created with, to launch it again (start, restart).
    static func recreate(from record: ContainerRecord, global: GlobalOptions) throws -> Run {
        guard case .commands(let levels) = try Run.spec.parse(record.runArguments), let parsed = levels.last else {
            throw ContainerError(.systemError, "the record of container \(record.name) holds no valid run command")
        }
        return try Run(global: global, parsed)
    }

    /// The container's launch configuration as its `run` made it, on the layers of the image it
    /// was created from (start, a policy's restart).
    static func recreateConfig(of record: ContainerRecord, global: GlobalOptions, containers: ContainerStore) throws -> ContainerConfig {
        let run = try recreate(from: record, global: global)
        return try ImageStore(root: global.stateRoot).resolve(record.imageManifest) { resolved in
            try run.makeConfig(record: record, image: resolved, containers: containers)
        }
    }
}

/// Signal names as Docker takes them: "TERM", "SIGTERM" or "15".
enum SignalName {
    static let table: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP),
        ("ABRT", SIGABRT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("SEGV", SIGSEGV), ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM),
        ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP), ("TSTP", SIGTSTP), ("TTIN", SIGTTIN),
        ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ), ("VTALRM", SIGVTALRM),
        ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO), ("PWR", SIGPWR), ("SYS", SIGSYS),
    ]

    static func number(_ text: String) -> Int32? {
        if let n = Int32(text) { return (1...64).contains(n) ? n : nil }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        return table.first { $0.0 == name }?.1
    }
}

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
        let control = try ContainerControl(global: global)
        return forEach(names) { name in
            try control.stop(try control.context.store.find(name), timeout: timeout)
        }
    }
}

/// `berth start`.
struct StartContainers: BerthCommand {
    static let spec = CommandSpec(name: "start", abstract: "Start stopped containers in the background.",
                                  usage: "CONTAINER [CONTAINER...]")

    let global: GlobalOptions
    let names: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        if names.isEmpty { throw UsageError("start needs at least one container name or id") }
    }

    func run() throws -> Int32 {
        let control = try ContainerControl(global: global)
        return forEach(names) { name in try control.start(try control.context.store.find(name)) }
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
        let control = try ContainerControl(global: global)
        return forEach(names) { name in
            let record = try control.context.store.find(name)
            try control.stop(record, timeout: timeout)
            try control.start(try control.context.store.load(id: record.id))
        }
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
        let control = try ContainerControl(global: global)
        return forEach(names) { name in
            let record = try control.context.store.find(name)
            // Docker's rule: SIGKILL or the container's stop signal is a stop by the user, which
            // its restart policy does not undo; other signals (HUP to reload) are not.
            if signal == SIGKILL || signal == control.stopSignal(of: record), control.isRunning(record) {
                control.context.store.markStopping(record.id)
                // A container waiting out its back-off then just stays down.
                if record.state.status == .restarting { return }
            }
            try control.signal(record, signal)
        }
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
        } catch let failure as DetachedStartFailure {
            Output.error(failure.message)
            failed = true
        } catch {
            Output.error("\(error)")
            failed = true
        }
    }
    return failed ? 1 : 0
}

/// The command a container's monitor process runs when the container has ended (hidden):
/// records the status, removes the cgroup, and restarts the container when its policy says so,
/// becoming its monitor again; otherwise releases the container's lock and exits.
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
        let containers = try ContainerStore(root: global.stateRoot)
        var record = try containers.load(id: id)
        let logger = global.makeLogger()
        let runtime = try HostRuntime(global: global, cgroupParent: record.hostConfig.cgroupParent, logger: logger)
        let lease = try runtime.runDirectory.adopt(id: id, lockFD: lockFD)
        let cgroup = CgroupPath(record.hostConfig.cgroup)
        let oomKilled = exitStatus == 128 + SIGKILL && ((try? runtime.cgroups.events(of: cgroup).oomKills) ?? 0) > 0
        let cgroupRemoved = (try? runtime.cgroups.destroy(cgroup)) != nil
        record.state = record.state.ended(exitCode: exitStatus, oomKilled: oomKilled)

        let policy = record.hostConfig.restartPolicy
        if cgroupRemoved, policy.shouldRestart(exitCode: exitStatus, restarts: record.restartCount,
                                              stoppedByUser: containers.isStopping(id)) {
            let ranSeconds = (Timestamp.parse(record.state.finishedAt ?? "") ?? 0) - (Timestamp.parse(record.state.startedAt ?? "") ?? 0)
            record.backOffStep = RestartPolicy.backOffStep(after: record.backOffStep, ranSeconds: ranSeconds)
            record.state.status = .restarting
            try? containers.write(record)
            reapEndedChildren()
            if waitOutBackOff(milliseconds: policy.delayMilliseconds(step: record.backOffStep), containers: containers) {
                record.restartCount += 1
                record.backOffStep += 1
                do {
                    let programs = try MonitorPrograms.locate()
                    let config = try Run.recreateConfig(of: record, global: global, containers: containers)
                    try DetachedLauncher(global: global, runtime: runtime, containers: containers)
                        .becomeMonitor(record, config: config, lease: lease, programs: programs, ready: nil)
                } catch {
                    // The container stays down; its log says why.
                    logger.error("cannot restart the container", metadata: ["container": "\(record.shortID)", "error": "\(error)"])
                    record.state.status = .exited
                    try? containers.write(record)
                    lease.release()
                    return 1
                }
            }
            record.state.status = .exited
        }
        // The record is final before the lock goes: whoever waits for the lock (stop, then
        // start or rm) reads this end, and nothing it writes next is overwritten.
        if record.hostConfig.autoRemove {
            try? containers.remove(record)
        } else {
            try? containers.write(record)
        }
        reapEndedChildren()
        if cgroupRemoved { lease.release() } else { lease.keepForRecovery() }
        return 0
    }

    /// Reaps the container's init, which berth-monitor left a zombie so that its pid stayed
    /// taken while the record named it (and whatever else of this process's children ended).
    private func reapEndedChildren() {
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    }

    /// Sleeps out a restart's back-off in short steps, so that a stop, kill or rm during it
    /// (they mark the container as stopping) ends it at once. True when the restart goes ahead.
    private func waitOutBackOff(milliseconds: Int, containers: ContainerStore) -> Bool {
        var waited = 0
        while waited < milliseconds {
            if containers.isStopping(id) { return false }
            let step = min(50, milliseconds - waited)
            usleep(UInt32(step) * 1000)
            waited += step
        }
        return !containers.isStopping(id)
    }
}
