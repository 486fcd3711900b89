import BerthErrors
import CSpawn
import FileSystem
import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The commands on a container that exists: pause, resume, ps, update and exec.
extension OCIRuntime {
    public func pause(id: String) throws {
        let record = try running(id, for: "pause")
        try cgroups.freeze(CgroupPath(record.cgroup))
    }

    public func resume(id: String) throws {
        let record = try existing(id)
        guard status(of: record) == .paused else {
            throw RuntimeError(.invalidState, "container \(id) is not paused: only a paused container can be resumed")
        }
        try cgroups.thaw(CgroupPath(record.cgroup))
    }

    /// The pids of the container's processes (in berth-oci's pid namespace).
    public func processes(id: String) throws -> [pid_t] {
        let record = try existing(id)
        return try cgroups.processes(in: CgroupPath(record.cgroup))
    }

    /// Changes the cgroup limits of a created, running or paused container.
    public func update(id: String, limits: ResourceLimits) throws {
        let record = try existing(id)
        guard status(of: record) != .stopped else {
            throw RuntimeError(.invalidState, "container \(id) is stopped: there are no limits to change")
        }
        try cgroups.update(CgroupPath(record.cgroup), limits: limits)
    }

    /// The limits a linux.resources document (`update -r`) sets; what berth cannot change is refused.
    public static func limits(from resources: OCIRuntimeSpec.Linux.Resources) throws -> ResourceLimits {
        var spec = OCIRuntimeSpec(process: .init(args: ["update"]), root: .init(path: "/"))
        spec.linux = .init(resources: resources)
        if resources.blockIO != nil || !(resources.hugepageLimits ?? []).isEmpty || resources.network != nil
            || !(resources.unified ?? [:]).isEmpty {
            throw RuntimeError(.unsupported, "berth-oci update changes memory, cpu and pids limits only, not blockIO, "
                               + "hugepageLimits, network or unified: set them in the bundle's config.json before create")
        }
        let bundle = OCIBundle(directory: "/", spec: spec)
        let limits = try bundle.containerConfig(id: "update").resources.withoutDevices
        // The cpuset is made with the container (v1 copies it down level by level); changing it
        // later is not done, so it is refused rather than ignored.
        if limits.cpuset != nil {
            throw RuntimeError(.unsupported, "berth-oci update cannot change cpu.cpus or cpu.mems: "
                               + "set them in the bundle's config.json before create")
        }
        return limits
    }

    /// The bundle's process, the base of an exec given only its arguments.
    public func defaultProcess(id: String) throws -> OCIRuntimeSpec.Process {
        let record = try existing(id)
        guard let process = try OCIBundle.load(record.bundle).spec.process else {
            throw RuntimeError(.invalidArgument, "the bundle of container \(id) has no process to start an exec from: give --process")
        }
        return process
    }

    /// Starts `process` in all of a running container's namespaces and its cgroup, with the
    /// bundle's settings for what the process does not say (seccomp, masked paths). Returns its pid.
    /// With `consoleSocket`, the process's stdio is a new terminal of the container's devpts
    /// whose master is sent there.
    public func exec(id: String, process: OCIRuntimeSpec.Process, pidFile: String?, consoleSocket: String? = nil,
                     io: LaunchIO) throws -> pid_t {
        try OCIConsole.check(terminal: process.terminal ?? false, socket: consoleSocket)
        let record = try running(id, for: "exec")
        let config = try configJoining(record, process: process)
        let pidfd = berth_pidfd_open(record.pid)
        guard pidfd >= 0 else { throw RuntimeError.system("cannot open container \(id)'s process (pid \(record.pid))") }
        defer { close(pidfd) }
        // Checked after the pidfd is open: the pid cannot be reused while it is held.
        guard OCIProcess.isAlive(record.pid, startTicks: record.startTicks) else {
            throw RuntimeError(.invalidState, "container \(id) stopped: there is nothing to exec in")
        }
        let terminal = try consoleSocket.map { _ in
            try OCIConsole.open(inContainerRoot: "/proc/\(record.pid)/root", size: process.consoleSize)
        }
        defer { terminal?.closeSlave(); terminal?.closeMaster() }
        let launched = try launcher.exec(config, joining: pidfd, cgroup: CgroupPath(record.cgroup),
                                         io: terminal.map(OCIConsole.io(of:)) ?? io, outlivesCaller: true)
        if launched.pidfd >= 0 { close(launched.pidfd) }
        if let terminal, let consoleSocket {
            do { try OCIConsole.send(terminal, to: consoleSocket) } catch {
                Glibc.kill(launched.pid, SIGKILL)
                throw error
            }
        }
        if let pidFile { try Self.writePIDFile(pidFile, pid: launched.pid) }
        return launched.pid
    }

    /// The bundle's container with `process` (nil: the bundle's own) as the process that joins
    /// its running init (exec, startContainer hooks).
    func configJoining(_ record: OCIContainerRecord, process: OCIRuntimeSpec.Process?) throws -> ContainerConfig {
        let loaded = try OCIBundle.load(record.bundle)
        var spec = loaded.spec
        if let process { spec.process = process }
        spec.hooks = nil
        return try OCIBundle(directory: loaded.directory, spec: spec).containerConfig(id: record.id, cgroupMode: cgroups.mode)
            .joiningItsInit
    }

    /// Blocks the signals `waitForExit` forwards, with their default action restored first: a
    /// runtime started with SIGTERM ignored (as a background job or a test harness may be) still
    /// passes it on, as runc does. Call it before `create`, so no signal comes between.
    public static func prepareForegroundRun() {
        for signo in ContainerSupervisor.forwardedSignals { signal(signo, SIG_DFL) }
        ContainerSupervisor.blockSignals()
    }

    /// `run` without --detach: waits for the container's process, which this process made, and
    /// forwards the signals it gets (INT, TERM, HUP, QUIT, USR1, USR2) to it meanwhile.
    public func waitForExit(_ record: OCIContainerRecord) throws -> ExitStatus {
        let pidfd = berth_pidfd_open(record.pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        let container = LaunchedContainer(id: record.id, pid: record.pid, pidfd: pidfd, cgroup: CgroupPath(record.cgroup))
        return try ContainerSupervisor(container: container, terminal: nil, relayStdin: false).wait()
    }

    /// The record of a running container, or an error naming `operation`.
    func running(_ id: String, for operation: String) throws -> OCIContainerRecord {
        let record = try existing(id)
        let status = self.status(of: record)
        guard status == .running else {
            throw RuntimeError(.invalidState, "container \(id) is \(status.rawValue): \(operation) needs a running container")
        }
        return record
    }

    /// One entry of `list --format json`, runc's fields.
    public static func listJSON(_ record: OCIContainerRecord, status: OCIStatus) -> JSONValue {
        var fields: [(key: String, value: JSONValue)] = [
            ("ociVersion", .string(ociVersion)), ("id", .string(record.id)),
            ("pid", .number(JSONNumber(status == .stopped ? 0 : record.pid))), ("status", .string(status.rawValue)),
            ("bundle", .string(record.bundle)), ("rootfs", .string(record.rootfs)), ("created", .string(record.created)),
            ("owner", .string("root")),
        ]
        if let annotations = record.annotations, !annotations.isEmpty {
            fields.append(("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        return .object(fields)
    }

    /// `features`: runc's document of what the runtime supports.
    public static var features: JSONValue {
        func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
        return .object([
            ("ociVersionMin", .string("1.0.0")), ("ociVersionMax", .string(ociVersion)),
            ("hooks", strings(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])),
            ("mountOptions", strings(MountOptions.names)),
            ("linux", .object([
                ("namespaces", strings(["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"])),
                ("capabilities", strings(CapabilitySet.all.names)),
                ("cgroup", .object([("v1", .bool(true)), ("v2", .bool(true)), ("systemd", .bool(false)),
                                    ("systemdUser", .bool(false))])),
                ("seccomp", .object([("enabled", .bool(true))])),
                ("apparmor", .object([("enabled", .bool(false))])),
                ("selinux", .object([("enabled", .bool(false))])),
                ("mountExtensions", .object([("idmap", .object([("enabled", .bool(true))]))])),
            ])),
            ("annotations", .object([("io.github.berth.oci.version", .string(ociVersion))])),
        ])
    }
}

extension ContainerConfig {
    /// The config of a process that enters the init's namespaces: a network namespace the
    /// container joined by path is its init's now, entered like the rest.
    var joiningItsInit: ContainerConfig {
        var config = self
        if config.networkNamespacePath != nil {
            config.networkNamespacePath = nil
            config.namespaces.insert(.network)
        }
        return config
    }

    /// The process a createContainer hook runs as, as runc runs it (from its init before that
    /// drops anything): root, every capability, no seccomp filter, at the namespace's root.
    var createContainerHookBase: ContainerConfig {
        var config = joiningItsInit
        config.user = .root
        config.capabilities = nil
        config.seccomp = nil
        config.noNewPrivileges = false
        config.rlimits = []
        config.executionDomain = nil
        config.workingDirectory = "/"
        return config
    }
}
