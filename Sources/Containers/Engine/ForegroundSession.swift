import Logging
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// How a container's process ended.
public struct ContainerOutcome: Sendable, Equatable {
    /// berth's exit code: the command's, 128+N for signal N, 137 for an OOM kill.
    public let exitCode: Int32
    /// Killed by the kernel's OOM killer for its cgroup's memory limit.
    public let oomKilled: Bool
    /// The memory limit it was killed for, when it was.
    public let memoryLimit: Int64?
}

extension ContainerEngine {
    /// Runs a created container in the foreground, attached to the caller's stdio (a pty of its
    /// own with `tty`), and records its start and end; a `--rm` container is removed at its
    /// end, a kept one stays `exited` (or `created`, when it never ran, as with Docker).
    /// `output`, when given, is the container's stdout and stderr instead of the caller's (a
    /// build's RUN steps, several at once when stages are built concurrently). With `killOnStop`
    /// a stop signal berth is sent kills the container instead of reaching its command (a
    /// build's RUN step, as Docker's builder kills the step of a cancelled build). `started` is
    /// given a pidfd of the container's process once it runs, valid during the call only (a
    /// build's other stages kill the step through it when one of them fails).
    public func runForeground(_ created: CreatedContainer, interactive: Bool, output: Int32? = nil,
                              killOnStop: Bool = false, started: ((Int32) -> Void)? = nil) throws -> ContainerOutcome {
        var record = created.record
        // Also when the start fails: the container then goes, and holds no layers.
        defer { created.imageLock?.unlock() }
        var healthChecks: pid_t?
        var removal: RecordRemoval?
        // Its end is not waited for: it ends with the container, and a zombie goes with berth.
        defer { if let healthChecks { _ = waitpid(healthChecks, nil, WNOHANG) } }
        do {
            var config = created.config
            let joinNetwork = try prepareNetwork(of: record, config: &config)
            var onNetwork = joinNetwork != nil
            let leaveNetworkOnce = { [record] in
                if onNetwork { leaveNetwork(record) }
                onNetwork = false
            }
            defer { leaveNetworkOnce() }
            // A container removed at its end is recorded running while its process sets itself
            // up (with its launch spec, when its creation left that to now): a failed start
            // removes it anyway. A kept one is recorded running once its command runs, so that
            // a failed start leaves it `created`, as Docker's does.
            let recordsDuringSetup = record.hostConfig.autoRemove
            let recordStart = { [store] (pid: pid_t) throws in
                record.state = ContainerState(status: .running, pid: pid, startedAt: Timestamp.now())
                if created.isRecorded {
                    try? store.write(record, durable: false)
                } else {
                    try store.recordLaunch(record, launch: created.config)
                    created.imageLock?.unlock()
                }
            }
            // A --rm container's record is removed from its end on, while the session removes
            // its cgroup and runtime state.
            let containerEnded = { [store] in
                leaveNetworkOnce()
                if record.hostConfig.autoRemove { removal = RecordRemoval.start(record, from: store) }
            }
            let outcome = try ForegroundSession(engine: self, config: config, interactive: interactive, output: output,
                                                killOnStop: killOnStop, cgroupParent: record.hostConfig.cgroupParent,
                                                beforeRelease: joinNetwork, duringSetup: recordsDuringSetup ? recordStart : nil,
                                                ended: containerEnded).run { pid, pidfd in
                if !recordsDuringSetup { try? recordStart(pid) }
                healthChecks = startHealthChecks(of: record)
                started?(pidfd)
            }
            record.state = record.state.ended(exitCode: outcome.exitCode, oomKilled: outcome.oomKilled)
            // With --rm the end is not recorded: the record goes anyway.
            if record.hostConfig.autoRemove {
                try (removal ?? RecordRemoval.start(record, from: store)).finish()
                removeAnonymousVolumes(of: record)
            } else {
                try? store.write(record, durable: false)
            }
            return outcome
        } catch {
            if record.hostConfig.autoRemove {
                try? removal?.finish()
                try? store.remove(record)
                removeAnonymousVolumes(of: record)
            }
            throw error
        }
    }

    /// The setup plan the child runs for `config` (`--debug` prints it, bubblewrap style).
    public func plan(for config: ContainerConfig, cgroupParent: String) -> [MountOperation] {
        let io = LaunchIO(stdin: 0, stdout: 1, stderr: 2, terminalPath: config.terminal ? "/dev/pts/N" : nil)
        return launcher(cgroupParent: cgroupParent).mountPlan(for: config, io: io)
    }
}

/// The removal of a `--rm` container's record on a thread of its own, from the container's end
/// on: it waits for the state root's file system while the caller's thread waits for the
/// cgroup file system (removing the container's cgroup), so neither waits for the other. Done
/// here and now when no thread can be made.
final class RecordRemoval: @unchecked Sendable {
    // Written by the worker only, and read only after `join`, which orders the two.
    private var failure: (any Error)?
    private var worker: WorkerThread?

    private init() {}

    static func start(_ record: ContainerRecord, from store: ContainerStore) -> RecordRemoval {
        let removal = RecordRemoval()
        removal.worker = WorkerThread.startOrRun {
            do { try store.removeIfPresent(record) } catch { removal.failure = error }
        }
        return removal
    }

    /// Waits for the removal, and throws what it failed with.
    func finish() throws {
        worker?.join()
        worker = nil
        if let failure { throw failure }
    }
}

/// One foreground container from start to cleanup: its runtime record, terminal, launch, the
/// wait, the OOM verdict, and the removal of everything it had, on every path.
struct ForegroundSession {
    let engine: ContainerEngine
    let config: ContainerConfig
    let interactive: Bool
    /// The container's stdout and stderr when not the caller's.
    let output: Int32?
    /// A stop signal kills the container (`SupervisedContainers`).
    let killOnStop: Bool
    let cgroupParent: String
    /// Puts the child on its network before its setup runs.
    let beforeRelease: ((pid_t) throws -> Void)?
    /// Runs while the child sets itself up (`Launcher.launch`).
    var duringSetup: ((pid_t) throws -> Void)?
    /// Takes it off its network as soon as it has ended, first of the cleanup: removing a
    /// published port waits for an RCU grace period when berth's netfilter socket closes, and the
    /// rest of the cleanup runs meanwhile.
    var ended: () -> Void = {}

    /// Runs the container to its end. `started` is told the container's pid and a pidfd of it
    /// (-1 from a kernel that gave none; valid during the call) once it runs.
    func run(started: (pid_t, Int32) -> Void) throws -> ContainerOutcome {
        let launcher = engine.launcher(cgroupParent: cgroupParent)
        let cgroup = launcher.cgroupPath(for: config.id)
        let lease = try engine.runDirectory.register(id: config.id, cgroup: cgroup)
        var cgroupRemoved = true   // the launcher removes the cgroup itself when launching fails
        defer { cgroupRemoved ? lease.release() : lease.keepForRecovery() }

        let stdio = try CallerStdio(terminal: config.terminal, interactive: interactive, containerRoot: nil, output: output)
        defer { stdio.close() }
        let container: LaunchedContainer
        do {
            container = try launcher.launch(config, io: stdio.io, beforeRelease: beforeRelease, duringSetup: duringSetup)
        } catch {
            stdio.restoreTerminal()
            throw error
        }
        defer { if container.pidfd >= 0 { close(container.pidfd) } }
        started(container.pid, container.pidfd)

        let status: ExitStatus
        do {
            status = try ContainerSupervisor(container: container, terminal: stdio.terminal, relayStdin: interactive,
                                             killOnStop: killOnStop).wait()
        } catch {
            cgroupRemoved = engine.removeCgroup(container.cgroup)
            throw error
        }
        stdio.restoreTerminal()
        ended()
        let oomKilled = status == .signaled(SIGKILL)
            && ((try? engine.cgroups.events(of: container.cgroup).oomKills) ?? 0) > 0
        cgroupRemoved = engine.removeCgroup(container.cgroup)
        return ContainerOutcome(exitCode: oomKilled ? 137 : status.code, oomKilled: oomKilled,
                                memoryLimit: oomKilled ? config.resources.memoryBytes : nil)
    }
}

extension ContainerEngine {
    /// Removes a container's cgroup (killing whatever is left in it). False when that failed:
    /// its runtime record then stays for the next berth command to retry.
    func removeCgroup(_ cgroup: CgroupPath) -> Bool {
        do {
            try cgroups.destroy(cgroup)
            return true
        } catch {
            logger.warning("cannot remove the container's cgroup; the next berth command retries",
                           metadata: ["cgroup": "\(cgroup)", "error": "\(error)"])
            return false
        }
    }
}

/// The stdio a foreground process (`run`, `exec`) gets from its caller: the caller's own fds, an
/// empty stdin without `-i` (as Docker gives), or a new pty (`-t`), with the caller's terminal in
/// raw mode while the user's keystrokes go to the container.
struct CallerStdio {
    let terminal: PseudoTerminal?
    let io: LaunchIO
    private let devNull: Int32
    private let rawMode: RawTerminalMode?

    /// `containerRoot`: the container's root as the host sees it, for a pty from its own devpts
    /// (exec); nil makes a new pty (run).
    init(terminal wantsTerminal: Bool, interactive: Bool, containerRoot: String?, output: Int32? = nil) throws {
        if wantsTerminal {
            let terminal = try containerRoot.map { try PseudoTerminal(inContainerRoot: $0) } ?? PseudoTerminal()
            self.terminal = terminal
            io = LaunchIO(stdin: terminal.slave, stdout: terminal.slave, stderr: terminal.slave,
                          terminalPath: terminal.slavePath)
            devNull = -1
        } else {
            terminal = nil
            var devNull: Int32 = -1
            if !interactive {
                devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard devNull >= 0 else { throw RuntimeError.system("cannot open /dev/null") }
            }
            self.devNull = devNull
            io = LaunchIO(stdin: interactive ? STDIN_FILENO : devNull, stdout: output ?? STDOUT_FILENO, stderr: output ?? STDERR_FILENO)
        }
        // Raw mode only when the user's keystrokes go to the container.
        rawMode = terminal != nil && interactive ? RawTerminalMode(fd: STDIN_FILENO) : nil
    }

    func restoreTerminal() { rawMode?.restore() }

    func close() {
        rawMode?.restore()
        terminal?.closeMaster()
        if devNull >= 0 { Glibc.close(devNull) }
    }
}
