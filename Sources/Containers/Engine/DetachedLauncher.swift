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
/// The caller spawns `berth monitor-start ID` (posix_spawn: nothing of Swift runs between its
/// fork and its exec, so a caller with threads is safe), in a session of its own with stdio on
/// /dev/null. That process launches the container from the launch spec, so it is the parent of
/// the container's init (which dies with it: PDEATHSIG), records it as running, and replaces
/// itself with `berth-monitor`, which logs the container's output and reports "ok" on the ready
/// pipe once it is set up. When the container ends, the monitor execs `berth monitor-exit` in
/// the same process, which records the end and restarts the container (becoming its monitor
/// again) or exits. That process holds the container's runtime lock throughout.
extension ContainerEngine {
    /// Starts `record`'s container in the background and returns once its monitor runs it, or
    /// throws why it could not start (a `notExecutable`/`commandNotFound` error for a command
    /// that cannot run).
    public func startDetached(_ record: ContainerRecord) throws {
        try startDetached(record, whileLaunching: {})
    }

    /// Starts a container just created, making its files durable (`create(_:sync:)`) while its
    /// monitor process launches it: the wait for the disk overlaps the launch. When they cannot
    /// be written to disk, the container is removed again.
    public func startDetached(_ created: CreatedContainer) throws {
        guard !created.isDurable else { return try startDetached(created.record) }
        var syncFailure: (any Error)?
        var synced = false
        do {
            try startDetached(created.record) {
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

    private func startDetached(_ record: ContainerRecord, whileLaunching: () -> Void) throws {
        let programs = try monitorPrograms()
        var ready: [Int32] = [-1, -1]
        guard berth_pipe_cloexec(&ready) == 0 else { throw ContainerError.system("cannot create a pipe") }
        defer { close(ready[0]) }
        let child: pid_t
        do {
            defer { close(ready[1]) }
            child = try spawnDetached([programs.berth] + forwardedArguments + ["monitor-start", record.id, "--ready-fd", "3"],
                                      readyFD: ready[1])
        }
        whileLaunching()
        let answer = String(decoding: (try? FileIO.readAll(ready[0], path: "the monitor's ready pipe")) ?? [], as: UTF8.self)
        if answer == "ok" { return }
        // The process failed and is exiting: reap it rather than leave a zombie behind.
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        throw Self.startFailure(answer)
    }

    /// Runs `programs.berth` with `arguments` as a detached process: its own session, stdio on
    /// /dev/null, the ready pipe as fd 3 and no other fd, default signal handling.
    func spawnDetached(_ arguments: [String], readyFD: Int32) throws -> pid_t {
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = berth_spawn_detached(arguments[0], &argv, environ, readyFD, &pid)
        guard rc == 0 else { throw ContainerError.system("cannot start the container's monitor \(arguments[0])", errno: rc) }
        return pid
    }

    /// The error a failed monitor start reported: "CODE message", written by `reportStartFailure`.
    static func startFailure(_ answer: String) -> ContainerError {
        let parts = answer.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, let code = ContainerError.Code(rawValue: parts[0]) else {
            return ContainerError(.systemError, "the container's monitor ended before the container started")
        }
        return ContainerError(code, parts[1])
    }

    /// Says why the container could not be started on the ready pipe, for `startDetached`.
    public static func reportStartFailure(_ error: any Error, readyFD: Int32) {
        let failure = error as? ContainerError ?? ContainerError(.systemError, "\(error)")
        // Nothing to do when the pipe is gone: the caller that would read it has gone too.
        try? FileIO.writeAll(readyFD, Array("\(failure.code.rawValue) \(failure.description)".utf8), path: "the ready pipe")
    }

    func monitorPrograms() throws -> MonitorPrograms {
        try programs.map { try $0.checked() } ?? MonitorPrograms.besideThisExecutable()
    }

    /// `berth monitor-start`: launches the container of `id` from this (new, single-threaded)
    /// process and becomes its monitor; `ready` gets "ok" from the monitor once it is set up.
    /// Returns only by throwing, after removing what it made.
    public func becomeMonitor(of id: String, ready: Int32) throws -> Never {
        let record = try store.load(id: id)
        let config = try launchConfig(of: record)
        let lease = try runDirectory.register(id: id, cgroup: CgroupPath(record.hostConfig.cgroup))
        try becomeMonitor(record, config: config, lease: lease, programs: try monitorPrograms(), ready: ready)
    }

    /// Launches the container from this process, records it as running, and execs the monitor,
    /// which reports "ok" on `ready` (when given) once it is set up. Returns only by throwing,
    /// after removing what it made (the lease is released too).
    func becomeMonitor(_ record: ContainerRecord, config: ContainerConfig, lease: ContainerLease,
                       programs: MonitorPrograms, ready: Int32?) throws -> Never {
        var record = record
        var config = config
        var fdsToClose: [Int32] = []
        defer { for fd in fdsToClose { close(fd) } }
        let launcher = launcher(cgroupParent: record.hostConfig.cgroupParent)
        var cgroupRemoved = true
        var joinNetwork: ((pid_t) throws -> Void)?
        do {
            joinNetwork = try prepareNetwork(of: record, config: &config)
            let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard devNull >= 0 else { throw ContainerError.system("cannot open /dev/null") }
            fdsToClose.append(devNull)
            let io: LaunchIO
            var outputArguments: [String]
            if config.terminal {
                let terminal = try PseudoTerminal(sizeFrom: -1)
                fdsToClose.append(terminal.slave)
                io = LaunchIO(stdin: terminal.slave, stdout: terminal.slave, stderr: terminal.slave,
                              terminalPath: terminal.slavePath)
                outputArguments = ["--pty", String(terminal.master)]
                _ = fcntl(terminal.master, F_SETFD, 0)
            } else {
                let stdout = try makePipe()
                let stderr = try makePipe()
                fdsToClose += [stdout.write, stderr.write]
                io = LaunchIO(stdin: devNull, stdout: stdout.write, stderr: stderr.write)
                outputArguments = ["--stdout", String(stdout.read), "--stderr", String(stderr.read)]
                _ = fcntl(stdout.read, F_SETFD, 0)
                _ = fcntl(stderr.read, F_SETFD, 0)
            }
            let container = try launcher.launch(config, io: io, beforeRelease: joinNetwork)
            cgroupRemoved = false
            if container.pidfd >= 0 { close(container.pidfd) }
            for fd in fdsToClose { close(fd) }
            fdsToClose = []

            // Each start begins `starting`: what earlier runs found says nothing of this one.
            store.resetHealth(of: record.id)
            record.state = ContainerState(status: .running, pid: container.pid, startedAt: Timestamp.now())
            try store.write(record, durable: false)
            let lockFD = lease.inheritableLockFD()
            // The monitor says "ok" once it is set up: until then the container is not started.
            if let ready {
                _ = fcntl(ready, F_SETFD, 0)
                outputArguments += ["--ready-fd", String(ready)]
            }
            let arguments = [programs.monitor, "--pid", String(container.pid)] + outputArguments
                + ["--log", store.logPath(of: record.id),
                   "--log-max-size", String(record.hostConfig.logMaxSize),
                   "--log-max-files", String(record.hostConfig.logMaxFiles)]
                + healthArguments(of: record, programs: programs) + ["--", programs.berth]
                + forwardedArguments + ["monitor-exit", record.id, "--lock-fd", String(lockFD)]
            execute(arguments)
            // Only a failed exec gets here: the container must not outlive its monitor.
            let err = errno
            Glibc.kill(container.pid, SIGKILL)
            throw ContainerError.system("cannot run the container's monitor \(programs.monitor)", errno: err)
        } catch {
            if !cgroupRemoved { _ = removeCgroup(launcher.cgroupPath(for: record.id)) }
            if joinNetwork != nil { leaveNetwork(record) }
            lease.release()
            throw error
        }
    }

    private func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard berth_pipe_cloexec(&fds) == 0 else { throw ContainerError.system("cannot create a pipe") }
        return (fds[0], fds[1])
    }
}

/// execv with Swift strings; returns only when it failed.
func execute(_ arguments: [String]) {
    var cStrings = arguments.map { strdup($0) }
    cStrings.append(nil)
    execv(arguments[0], &cStrings)
    for p in cStrings { free(p) }
}
