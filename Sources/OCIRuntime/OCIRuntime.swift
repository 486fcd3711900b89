import BerthErrors
import CSpawn
import FileSystem
import JSON
import Logging
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The OCI runtime's state machine (runc's command line, `berth-oci`), on berth's launcher:
/// `create` makes the process in its namespaces and cgroup and leaves it held before its
/// command on an exec fifo; `start` lets it go; `kill` and `delete` end it and remove what was
/// made. Each command is a separate process, so everything between them lives in the state
/// root; nothing here keeps a process alive after its command returns.
public struct OCIRuntime: Sendable {
    /// The version of the runtime spec berth-oci implements.
    public static let ociVersion = "1.2.0"

    public let root: OCIStateRoot
    public let cgroups: any CgroupDriver
    public let logger: Logger

    public init(root: OCIStateRoot, cgroups: any CgroupDriver = makeCgroupDriver(optionalControllers: true), logger: Logger) {
        self.root = root
        self.cgroups = cgroups
        self.logger = logger
    }

    var launcher: Launcher {
        Launcher(cgroups: cgroups, cgroupParent: "berth-oci", seccompCache: nil, logger: logger)
    }

    // MARK: - create and start

    /// Creates container `id` from the bundle: when this returns, its process exists in its
    /// namespaces and cgroup, its prestart and createRuntime hooks have run, `pidFile` holds its
    /// pid, and it waits for `start`. When a step fails, nothing of it is left.
    @discardableResult
    /// With `consoleSocket`, the process's stdio is a new terminal whose master is sent there;
    /// without, it is `io`.
    public func create(id: String, bundle directory: String, pidFile: String?, consoleSocket: String? = nil,
                       io: LaunchIO) throws -> OCIContainerRecord {
        let bundle = try OCIBundle.load(directory)
        try OCIConsole.check(terminal: bundle.spec.process?.terminal ?? false, socket: consoleSocket)
        let config = try bundle.containerConfig(id: id, cgroupMode: cgroups.mode) { logger.warning("\($0)", metadata: ["container": "\(id)"]) }
        let cgroup = try bundle.cgroupPath(id: id)
        let process = bundle.spec.process
        if let label = process?.apparmorProfile, !label.isEmpty {
            logger.warning("process.apparmorProfile is not applied: berth-oci loads no AppArmor profiles", metadata: ["container": "\(id)"])
        }
        if let label = process?.selinuxLabel, !label.isEmpty {
            logger.warning("process.selinuxLabel is not applied: berth-oci sets no SELinux labels", metadata: ["container": "\(id)"])
        }
        try root.claim(id)
        do {
            let fifo = root.fifoPath(of: id)
            guard mkfifo(fifo, 0o600) == 0 else { throw RuntimeError.system("cannot make the exec fifo \(fifo)") }
            let held = open(fifo, O_RDWR | O_CLOEXEC)
            guard held >= 0 else { throw RuntimeError.system("cannot open the exec fifo \(fifo)") }
            defer { close(held) }
            var record = OCIContainerRecord(id: id, pid: 0, startTicks: 0, bundle: bundle.directory, rootfs: bundle.rootfs,
                                            cgroup: cgroup.relative, created: "", annotations: bundle.spec.annotations,
                                            hooks: bundle.spec.hooks)
            // The process inherits the umask at clone: set for the clone only.
            let previousUmask = process?.user.umask.map { umask(mode_t($0 & 0o777)) }
            defer { if let previousUmask { umask(previousUmask) } }
            let terminal = try consoleSocket.map { _ in try OCIConsole.open(size: process?.consoleSize) }
            defer { terminal?.closeSlave(); terminal?.closeMaster() }
            let containerHooks = bundle.spec.hooks?.createContainer ?? []
            let launcher = self.launcher
            let launched = try launcher.launch(
                config, io: terminal.map(OCIConsole.io(of:)) ?? io, cgroup: cgroup, startFD: held,
                beforeRelease: { pid in
                    try Self.adjustOOMScore(of: pid, to: process?.oomScoreAdj)
                    try OCISysctl.write(bundle.spec.linux?.sysctl ?? [:], in: pid)
                    record.pid = pid
                    let state = record.stateJSON(status: .creating)
                    try OCIHookRunner.run(bundle.spec.hooks?.prestart, stage: "prestart", state: state)
                    try OCIHookRunner.run(bundle.spec.hooks?.createRuntime, stage: "createRuntime", state: state)
                },
                mountsReady: containerHooks.isEmpty ? nil : { pid, pidfd in
                    try OCIHookRunner.runInContainer(containerHooks, stage: "createContainer",
                                                     state: record.stateJSON(status: .creating),
                                                     base: config.createContainerHookBase, joining: pidfd, cgroup: cgroup,
                                                     launcher: launcher)
                })
            if launched.pidfd >= 0 { close(launched.pidfd) }
            record.pid = launched.pid
            record.startTicks = OCIProcess.stat(of: launched.pid)?.startTicks ?? 0
            record.created = Timestamp.now()
            do {
                if let terminal, let consoleSocket { try OCIConsole.send(terminal, to: consoleSocket) }
                try root.write(record)
                if let pidFile { try Self.writePIDFile(pidFile, pid: launched.pid) }
            } catch {
                Glibc.kill(launched.pid, SIGKILL)
                try? cgroups.destroy(cgroup)
                throw error
            }
            logger.debug("created", metadata: ["container": "\(id)", "pid": "\(launched.pid)", "cgroup": "\(cgroup)"])
            return record
        } catch {
            try? root.remove(id)
            throw error
        }
    }

    /// Lets a created container's process run its command, then runs the poststart hooks.
    public func start(id: String) throws {
        let record = try existing(id)
        let status = self.status(of: record)
        guard status == .created else {
            throw RuntimeError(.invalidState, "container \(id) is \(status.rawValue), not created: only a created container can be started")
        }
        if let hooks = record.hooks?.startContainer, !hooks.isEmpty { try runStartContainerHooks(hooks, of: record) }
        let fifo = root.fifoPath(of: id)
        // Non-blocking: the process holds the fifo open for reading, so the open succeeds at
        // once while it lives, and fails (ENXIO) instead of waiting when it has died.
        let fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.system("cannot open the exec fifo of container \(id) to start it") }
        var go: UInt8 = 0
        let written = write(fd, &go, 1)
        let writeErrno = errno
        close(fd)
        guard written == 1 else { throw RuntimeError.system("cannot start container \(id) (write to its exec fifo)", errno: writeErrno) }
        unlink(fifo)
        do {
            try OCIHookRunner.run(record.hooks?.poststart, stage: "poststart", state: record.stateJSON(status: .running))
        } catch {
            logger.warning("\(error)", metadata: ["container": "\(id)"])
        }
    }

    /// startContainer hooks, in the container (its namespaces, cgroup and process settings)
    /// before its command runs. The spec's rule for one that fails: the container is stopped.
    func runStartContainerHooks(_ hooks: [OCIRuntimeSpec.Hook], of record: OCIContainerRecord) throws {
        let pidfd = berth_pidfd_open(record.pid)
        guard pidfd >= 0 else { throw RuntimeError.system("cannot open container \(record.id)'s process (pid \(record.pid))") }
        defer { close(pidfd) }
        guard OCIProcess.isAlive(record.pid, startTicks: record.startTicks) else {
            throw RuntimeError(.invalidState, "container \(record.id) stopped before its startContainer hooks ran")
        }
        do {
            try OCIHookRunner.runInContainer(hooks, stage: "startContainer", state: record.stateJSON(status: .created),
                                             base: try configJoining(record, process: nil), joining: pidfd,
                                             cgroup: CgroupPath(record.cgroup), launcher: launcher)
        } catch {
            // Bounded: a process in an uninterruptible sleep is left to end on its own.
            _ = berth_pidfd_send_signal(pidfd, SIGKILL)
            var ended = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            _ = poll(&ended, 1, 10_000)
            throw error
        }
    }

    // MARK: - state

    /// The container's status now, read from its process, exec fifo and cgroup.
    public func status(of record: OCIContainerRecord) -> OCIStatus {
        guard OCIProcess.isAlive(record.pid, startTicks: record.startTicks) else { return .stopped }
        if access(root.fifoPath(of: record.id), F_OK) == 0 { return .created }
        if (try? cgroups.isFrozen(CgroupPath(record.cgroup))) == true { return .paused }
        return .running
    }

    /// The runtime spec's state of `id`.
    public func state(id: String) throws -> JSONValue {
        guard let record = try root.record(of: id) else {
            return .object([("ociVersion", .string(Self.ociVersion)), ("id", .string(id)), ("pid", .number(0)),
                            ("status", .string(OCIStatus.creating.rawValue)), ("bundle", .string(""))])
        }
        return record.stateJSON(status: status(of: record))
    }

    /// Every container of the state root with its status; one whose create is under way has no
    /// record yet.
    public func list() throws -> [(id: String, record: OCIContainerRecord?, status: OCIStatus)] {
        try root.ids().map { id in
            let record = (try? root.record(of: id)) ?? nil
            return (id, record, record.map(status(of:)) ?? .creating)
        }
    }

    // MARK: - kill and delete

    /// Sends `signal` to the container's process (created, running or paused), or with `all`
    /// to every process in its cgroup.
    public func kill(id: String, signal: Int32, all: Bool) throws {
        let record = try existing(id)
        guard status(of: record) != .stopped else {
            throw RuntimeError(.invalidState, "container \(id) is not running: there is no process to signal")
        }
        if all {
            for pid in try cgroups.processes(in: CgroupPath(record.cgroup)) { Glibc.kill(pid, signal) }
            return
        }
        guard Glibc.kill(record.pid, signal) == 0 else {
            throw RuntimeError.system("cannot send signal \(signal) to container \(id) (pid \(record.pid))")
        }
    }

    /// Removes the container: its process (a created one is killed; a running one only with
    /// `force`), its cgroup, its state; then runs the poststop hooks.
    public func delete(id: String, force: Bool) throws {
        guard let record = try root.record(of: id) else {
            // A create that never finished (its process was killed with it): only its directory is left.
            guard force else {
                throw RuntimeError(.invalidState, "container \(id) is still being created: wait for it, "
                                   + "or remove what is left with berth-oci delete --force \(id)")
            }
            try root.remove(id)
            return
        }
        let status = self.status(of: record)
        if (status == .running || status == .paused) && !force {
            throw RuntimeError(.invalidState, "container \(id) is \(status.rawValue): stop it first (berth-oci kill \(id) KILL) "
                               + "or remove it anyway with berth-oci delete --force \(id)")
        }
        let cgroup = CgroupPath(record.cgroup)
        if status != .stopped {
            cgroups.releaseHolds(on: cgroup)
            Glibc.kill(record.pid, SIGKILL)
        }
        // Kills whatever is left in the cgroup (an exec'd process, a daemon the command left) and
        // removes it, bounded by the driver's own deadline.
        try cgroups.destroy(cgroup)
        try root.remove(id)
        do {
            try OCIHookRunner.run(record.hooks?.poststop, stage: "poststop", state: record.stateJSON(status: .stopped))
        } catch {
            logger.warning("\(error)", metadata: ["container": "\(id)"])
        }
    }

    // MARK: - helpers

    /// The record of a container whose create has finished.
    func existing(_ id: String) throws -> OCIContainerRecord {
        guard let record = try root.record(of: id) else {
            throw RuntimeError(.invalidState, "container \(id) is still being created: try again once berth-oci create returns")
        }
        return record
    }

    static func adjustOOMScore(of pid: pid_t, to score: Int?) throws {
        guard let score else { return }
        let path = "/proc/\(pid)/oom_score_adj"
        try OCISysctl.writeControlFile(path, "\(score)", setting: "process.oomScoreAdj \(score)")
    }

    static func writePIDFile(_ path: String, pid: pid_t) throws {
        do { try AtomicFile.replace(path, with: Array("\(pid)".utf8), durable: false) } catch {
            throw RuntimeError(.systemError, "cannot write the pid file \(path): \(error.reason); give a writable path with --pid-file")
        }
    }
}
