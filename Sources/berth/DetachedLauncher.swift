import Containers
import CSpawn
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Starts containers in the background, each with its own monitor (DESIGN.md's `Containers`).
///
/// berth forks; the child launches the container, so it is the parent of the container's init
/// (which dies with it: PDEATHSIG), then replaces itself with `berth-monitor`, a small C program
/// that writes the container's output to its log and waits for its end. When the container
/// ends, the monitor execs `berth monitor-exit` in the same process, which records the status,
/// removes the cgroup, and restarts the container (then becomes the monitor again) or exits.
/// The container's runtime lock is held by that process throughout, which is what `ps` checks.
struct DetachedLauncher {
    let global: GlobalOptions
    let runtime: HostRuntime
    let containers: ContainerStore

    /// Launches `record`'s container in the background and returns once it runs (its record
    /// then says so) or failed to start (thrown, with the code `run` would exit with).
    func start(_ record: ContainerRecord, config: ContainerConfig) throws {
        let programs = try MonitorPrograms.locate()
        var ready: [Int32] = [-1, -1]
        guard pipe(&ready) == 0 else { throw RuntimeError.system("cannot create a pipe") }
        _ = fcntl(ready[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ready[1], F_SETFD, FD_CLOEXEC)
        // berth is single-threaded here, so the child may go on running Swift after fork.
        let child = fork()
        if child < 0 {
            close(ready[0])
            close(ready[1])
            throw RuntimeError.system("cannot fork the container's monitor")
        }
        if child == 0 {
            close(ready[0])
            // Its own session: the user's terminal and its signals stay with the CLI. And none of
            // the CLI's descriptors: `id=$(berth run -d …)` must return when the CLI exits, not
            // when the container does, so stdio goes to /dev/null and the rest closes at exec.
            setsid()
            detachFromCaller(keeping: ready[1])
            do {
                let lease = try runtime.runDirectory.register(id: record.id, cgroup: runtime.launcher.cgroupPath(for: record.id))
                try becomeMonitor(record, config: config, lease: lease, programs: programs, ready: ready[1])
            } catch {
                let code: Int32 = (error as? RuntimeError).map(Output.exitCode(for:)) ?? 125
                writeText(ready[1], "\(code) \(error)")
                _exit(code)
            }
        }
        close(ready[1])
        let answer = readText(ready[0])
        close(ready[0])
        if answer == "ok" { return }
        // The child failed and is exiting: reap it rather than leave a zombie behind the CLI.
        var status: Int32 = 0
        _ = waitpid(child, &status, 0)
        let parts = answer.split(separator: " ", maxSplits: 1).map(String.init)
        let code = parts.first.flatMap { Int32($0) } ?? 125
        let message = parts.count > 1 ? parts[1] : "the container's monitor ended before the container started"
        throw DetachedStartFailure(exitCode: code, message: message)
    }

    /// Launches the container from this process, records it as running, and execs the monitor,
    /// which reports "ok" on `ready` (when given) once it is set up. Returns only by throwing,
    /// after removing what it made (the lease is released too).
    func becomeMonitor(_ record: ContainerRecord, config: ContainerConfig, lease: ContainerLease,
                       programs: MonitorPrograms, ready: Int32?) throws -> Never {
        var record = record
        var fdsToClose: [Int32] = []
        defer { for fd in fdsToClose { close(fd) } }
        var cgroupRemoved = true
        do {
            let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard devNull >= 0 else { throw RuntimeError.system("cannot open /dev/null") }
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
            let container = try runtime.launcher.launch(config, io: io)
            cgroupRemoved = false
            if container.pidfd >= 0 { close(container.pidfd) }
            for fd in fdsToClose { close(fd) }
            fdsToClose = []

            record.state = ContainerState(status: .running, pid: container.pid, startedAt: Timestamp.now())
            try containers.write(record)
            let lockFD = lease.inheritableLockFD()
            // The monitor says "ok" once it is set up: until then the container is not started.
            if let ready {
                _ = fcntl(ready, F_SETFD, 0)
                outputArguments += ["--ready-fd", String(ready)]
            }
            let arguments = [programs.monitor, "--pid", String(container.pid)] + outputArguments
                + ["--log", containers.logPath(of: record.id),
                   "--log-max-size", String(record.hostConfig.logMaxSize),
                   "--log-max-files", String(record.hostConfig.logMaxFiles), "--", programs.berth]
                + global.forwardedArguments + ["monitor-exit", record.id, "--lock-fd", String(lockFD)]
            execute(arguments)
            // Only a failed exec gets here: the container must not outlive its monitor.
            let err = errno
            kill(container.pid, SIGKILL)
            throw RuntimeError(.systemError, "cannot run the container's monitor \(programs.monitor)", errno: err)
        } catch {
            if !cgroupRemoved {
                try? runtime.cgroups.destroy(runtime.launcher.cgroupPath(for: record.id))
            }
            lease.release()
            throw error
        }
    }

    /// Points stdio at /dev/null and marks every other inherited fd close-on-exec (the ready
    /// pipe is already).
    private func detachFromCaller(keeping ready: Int32) {
        let devNull = open("/dev/null", O_RDWR)
        if devNull >= 0 {
            for fd in Int32(0)...2 { dup2(devNull, fd) }
            if devNull > 2 { close(devNull) }
        }
        berth_cloexec_from(3)
        _ = ready
    }

    private func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw RuntimeError.system("cannot create a pipe") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }
}

/// Why a detached container did not start, with the exit code `run` gives for it.
struct DetachedStartFailure: Error, CustomStringConvertible {
    let exitCode: Int32
    let message: String
    var description: String { message }
}

/// The two programs a monitor process runs: berth-monitor, and berth itself when the container
/// ends. Both are found next to the running berth, so a build tree and an install work alike.
struct MonitorPrograms {
    let berth: String
    let monitor: String

    static func locate() throws -> MonitorPrograms {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw RuntimeError.system("cannot find berth's own executable") }
        let berth = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directory = berth.lastIndex(of: "/").map { String(berth[..<$0]) } ?? "."
        let monitor = directory + "/berth-monitor"
        guard access(monitor, X_OK) == 0 else {
            throw RuntimeError(.notFound, "berth-monitor is missing: it must sit next to berth (\(monitor))")
        }
        return MonitorPrograms(berth: berth, monitor: monitor)
    }
}

/// execv with Swift strings.
func execute(_ arguments: [String]) {
    var cStrings = arguments.map { strdup($0) }
    cStrings.append(nil)
    execv(arguments[0], &cStrings)
    for p in cStrings { free(p) }
}

func writeText(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        if n < 0 { if errno == EINTR { continue } else { return } }
        offset += n
    }
}

func readText(_ fd: Int32) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue } else { break } }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
