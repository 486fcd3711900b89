import CFileSystem
import CSpawn
import FileSystem
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The two programs a detached container's monitor process runs: berth itself (to launch the
/// container, and to record its end), and berth-monitor. By default both are found next to the
/// running berth, so a build tree and an install work alike; a program that embeds the engine
/// names them.
public struct MonitorPrograms: Sendable {
    public let berth: String
    public let monitor: String

    public init(berth: String, monitor: String) {
        self.berth = berth
        self.monitor = monitor
    }

    /// berth and berth-monitor next to the running executable.
    public static func besideThisExecutable() throws -> MonitorPrograms {
        guard let berth = RunningExecutable.path else { throw ContainerError.system("cannot find berth's own executable") }
        return try MonitorPrograms(berth: berth, monitor: RunningExecutable.directory(of: berth) + "/berth-monitor").checked()
    }

    func checked() throws -> MonitorPrograms {
        for program in [berth, monitor] where access(program, X_OK) != 0 {
            throw ContainerError(.notFound, "\(program) is missing or not executable: berth-monitor must sit next to berth")
        }
        return self
    }
}

/// Starting containers in the background, each under its own monitor (DESIGN.md's `Containers`).
///
/// The caller launches the container through an adopter (`Launcher.launchAdopted`): a process
/// forked first, in a session of its own, which clones the container and so is the parent of its
/// init (which dies with it: PDEATHSIG), while the caller does the parent's part (cgroups, the
/// network, the wait for the exec) and records the container as running. Then the adopter
/// replaces itself with `berth-monitor`, which logs the container's output and reports "ok" on
/// the ready pipe once it is set up. Nothing of Swift runs in the adopter, so a caller with
/// threads is safe, and no second berth process starts on this path. When the container ends,
/// the monitor execs `berth monitor-exit` in the same process, which records the end and
/// restarts the container (launching it from that process, which becomes its monitor again) or
/// exits. The monitor's process holds the container's runtime lock throughout.
extension ContainerEngine {
    /// Starts `record`'s container in the background and returns once its monitor runs it, or
    /// throws why it could not start (a `notExecutable`/`commandNotFound` error for a command
    /// that cannot run).
    public func startDetached(_ record: ContainerRecord) throws {
        try startDetached(record, config: try launchConfig(of: record), duringSetup: nil)
    }

    /// Starts a container just created, making its files durable (`create(_:sync:)`) while the
    /// container's process sets itself up: the wait for the disk overlaps the launch. When they
    /// cannot be written to disk, the container is removed again.
    public func startDetached(_ created: CreatedContainer) throws {
        guard !created.isDurable else { return try startDetached(created.record, config: created.config, duringSetup: nil) }
        var syncFailure: (any Error)?
        var synced = false
        do {
            try startDetached(created.record, config: created.config) { _ in
                synced = true
                do { try store.makeDurable(created.record) } catch { syncFailure = error }
            }
        } catch {
            // A container that failed to start stays, `created`, as with Docker: durably too.
            if !synced { try? store.makeDurable(created.record) }
            throw error
        }
        if let syncFailure {
            try? remove(created.record, force: true)
            throw syncFailure
        }
    }

    private func startDetached(_ record: ContainerRecord, config: ContainerConfig, duringSetup: ((pid_t) -> Void)?) throws {
        let programs = try monitorPrograms()
        var record = record
        var config = config
        let lease = try runDirectory.register(id: record.id, cgroup: CgroupPath(record.hostConfig.cgroup))
        let launcher = launcher(cgroupParent: record.hostConfig.cgroupParent)
        var joinNetwork: ((pid_t) throws -> Void)?
        var launched: (container: LaunchedContainer, adopter: ContainerAdopter)?
        var verdictGiven = false
        var answer = ""
        // What a start that failed leaves to remove; the container and its adopter are gone.
        func undo() {
            if launched != nil { _ = removeCgroup(launcher.cgroupPath(for: record.id)) }
            if joinNetwork != nil { leaveNetwork(record) }
            lease.release()
        }
        do {
            joinNetwork = try prepareNetwork(of: record, config: &config)
            let output = try MonitorOutput(terminal: config.terminal, inheritable: false)
            defer { output.closeAll() }
            let ready = try makePipe()
            defer { close(ready.read) }
            do {
                defer { close(ready.write) }
                let lockFD = lease.lockDescriptor
                let monitor = MonitorCommand(
                    arguments: monitorArguments(record, pid: MonitorCommand.pidPlaceholder,
                                                output: output.arguments + ["--ready-fd", String(ready.write)],
                                                lockFD: lockFD, programs: programs),
                    keeping: output.monitorEnds + [ready.write, lockFD])
                launched = try launcher.launchAdopted(config, io: output.io, monitor: monitor, beforeRelease: joinNetwork,
                                                      duringSetup: duringSetup)
            }
            guard let launched else { throw ContainerError(.systemError, "the container was launched without its monitor") }
            if launched.container.pidfd >= 0 { close(launched.container.pidfd) }
            // Each start begins `starting`: what earlier runs found says nothing of this one.
            store.resetHealth(of: record.id)
            record.state = ContainerState(status: .running, pid: launched.container.pid, startedAt: Timestamp.now())
            // Recorded before the monitor runs: its `monitor-exit` must find the start it ends.
            try store.write(record, durable: false)
            try lease.recordHolder(launched.adopter.pid)
            verdictGiven = true
            try launched.adopter.adopt()
            answer = String(decoding: (try? FileIO.readAll(ready.read, path: "the monitor's ready pipe")) ?? [], as: UTF8.self)
        } catch {
            if !verdictGiven { launched?.adopter.abandon() }
            undo()
            throw error
        }
        guard answer == "ok" else {
            // The monitor did not start, and the container, its child, ended with it.
            var status: Int32 = 0
            if let adopter = launched?.adopter.pid { while waitpid(adopter, &status, 0) < 0 && errno == EINTR {} }
            undo()
            throw Self.startFailure(answer)
        }
        lease.handOver()
    }

    /// Runs `programs.berth` with `arguments` as a detached process: its own session, stdio on
    /// /dev/null, the ready pipe as fd 3 and no other fd, default signal handling.
    func spawnDetached(_ arguments: [String], readyFD: Int32) throws -> pid_t {
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = berth_spawn_detached(arguments[0], &argv, environ, readyFD, &pid)
        guard rc == 0 else { throw ContainerError.system("cannot start \(arguments[0]) in the background", errno: rc) }
        return pid
    }

    /// The error a failed monitor start reported: "CODE message", written by berth-monitor.
    static func startFailure(_ answer: String) -> ContainerError {
        let parts = answer.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, let code = ContainerError.Code(rawValue: parts[0]) else {
            return ContainerError(.systemError, "the container's monitor ended before the container started")
        }
        return ContainerError(code, parts[1])
    }

    func monitorPrograms() throws -> MonitorPrograms {
        try programs.map { try $0.checked() } ?? MonitorPrograms.besideThisExecutable()
    }

    /// Launches the container from this process (`berth monitor-exit`'s restart), records it as
    /// running, and execs the monitor. Returns only by throwing, after removing what it made
    /// (the lease is released too).
    func becomeMonitor(_ record: ContainerRecord, config: ContainerConfig, lease: ContainerLease,
                       programs: MonitorPrograms) throws -> Never {
        var record = record
        var config = config
        let launcher = launcher(cgroupParent: record.hostConfig.cgroupParent)
        var cgroupRemoved = true
        var joinNetwork: ((pid_t) throws -> Void)?
        do {
            joinNetwork = try prepareNetwork(of: record, config: &config)
            let output = try MonitorOutput(terminal: config.terminal, inheritable: true)
            let container: LaunchedContainer
            do {
                defer { output.closeContainerEnds() }
                container = try launcher.launch(config, io: output.io, beforeRelease: joinNetwork)
            }
            cgroupRemoved = false
            if container.pidfd >= 0 { close(container.pidfd) }

            // Each start begins `starting`: what earlier runs found says nothing of this one.
            store.resetHealth(of: record.id)
            record.state = ContainerState(status: .running, pid: container.pid, startedAt: Timestamp.now())
            try store.write(record, durable: false)
            execute(monitorArguments(record, pid: String(container.pid), output: output.arguments,
                                     lockFD: lease.inheritableLockFD(), programs: programs))
            // Only a failed exec gets here: the container must not outlive its monitor.
            let err = errno
            Glibc.kill(container.pid, SIGKILL)
            output.closeAll()
            throw ContainerError.system("cannot run the container's monitor \(programs.monitor)", errno: err)
        } catch {
            if !cgroupRemoved { _ = removeCgroup(launcher.cgroupPath(for: record.id)) }
            if joinNetwork != nil { leaveNetwork(record) }
            lease.release()
            throw error
        }
    }

    /// berth-monitor's command line for `record`'s container `pid`, which ends in `berth
    /// monitor-exit`, holding the container's lock.
    private func monitorArguments(_ record: ContainerRecord, pid: String, output: [String], lockFD: Int32,
                                  programs: MonitorPrograms) -> [String] {
        [programs.monitor, "--pid", pid] + output
            + ["--log", store.logPath(of: record.id),
               "--log-max-size", String(record.hostConfig.logMaxSize),
               "--log-max-files", String(record.hostConfig.logMaxFiles)]
            + healthArguments(of: record, programs: programs) + ["--", programs.berth]
            + forwardedArguments + ["monitor-exit", record.id, "--lock-fd", String(lockFD)]
    }

    private func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard berth_pipe_cloexec(&fds) == 0 else { throw ContainerError.system("cannot create a pipe") }
        return (fds[0], fds[1])
    }
}

/// A detached container's stdio, and the ends of it its monitor reads: a pty (the monitor keeps
/// the master) or two pipes and /dev/null. `inheritable`: the monitor's ends are made to survive
/// this process's exec (it becomes the monitor), else an adopter keeps its own copies of them.
private struct MonitorOutput {
    let io: LaunchIO
    /// berth-monitor's options naming its ends.
    let arguments: [String]
    let monitorEnds: [Int32]
    private let containerEnds: [Int32]

    init(terminal: Bool, inheritable: Bool) throws {
        if terminal {
            let pty = try PseudoTerminal(sizeFrom: -1)
            io = LaunchIO(stdin: pty.slave, stdout: pty.slave, stderr: pty.slave, terminalPath: pty.slavePath)
            arguments = ["--pty", String(pty.master)]
            containerEnds = [pty.slave]
            monitorEnds = [pty.master]
        } else {
            let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard devNull >= 0 else { throw ContainerError.system("cannot open /dev/null") }
            var stdout: [Int32] = [-1, -1]
            var stderr: [Int32] = [-1, -1]
            guard berth_pipe_cloexec(&stdout) == 0, berth_pipe_cloexec(&stderr) == 0 else {
                let err = errno
                for fd in [devNull] + stdout + stderr where fd >= 0 { close(fd) }
                throw ContainerError.system("cannot create a pipe", errno: err)
            }
            io = LaunchIO(stdin: devNull, stdout: stdout[1], stderr: stderr[1])
            arguments = ["--stdout", String(stdout[0]), "--stderr", String(stderr[0])]
            containerEnds = [devNull, stdout[1], stderr[1]]
            monitorEnds = [stdout[0], stderr[0]]
        }
        if inheritable {
            for fd in monitorEnds { _ = fcntl(fd, F_SETFD, 0) }
        }
    }

    /// Once the container has them.
    func closeContainerEnds() {
        for fd in containerEnds { close(fd) }
    }

    func closeAll() {
        for fd in containerEnds + monitorEnds { close(fd) }
    }
}

/// execv with Swift strings; returns only when it failed.
func execute(_ arguments: [String]) {
    var cStrings = arguments.map { strdup($0) }
    cStrings.append(nil)
    execv(arguments[0], &cStrings)
    for p in cStrings { free(p) }
}
