import CSpawn
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Where the container's stdio comes from.
public struct LaunchIO: Sendable {
    public var stdin: Int32
    public var stdout: Int32
    public var stderr: Int32
    /// The pty slave's host path when stdin/stdout/stderr are a pty slave: it becomes the
    /// controlling terminal and /dev/console.
    public var terminalPath: String?

    public init(stdin: Int32, stdout: Int32, stderr: Int32, terminalPath: String? = nil) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.terminalPath = terminalPath
    }
}

/// A container whose command has been exec'd.
public struct LaunchedContainer: Sendable {
    public let id: String
    /// The container's first process, in berth's pid namespace.
    public let pid: pid_t
    /// A pidfd for `pid` (never reused, unlike the pid), or -1 on kernels without one.
    public let pidfd: Int32
    public let cgroup: CgroupPath

    public init(id: String, pid: pid_t, pidfd: Int32, cgroup: CgroupPath) {
        self.id = id
        self.pid = pid
        self.pidfd = pidfd
        self.cgroup = cgroup
    }
}

/// Turns a `ContainerConfig` into a running, isolated process: cgroup, clone, the child's setup
/// (CSpawn), and the wait for exec. Everything it creates is removed again if a step fails.
public struct Launcher: Sendable {
    public let cgroups: any CgroupDriver
    /// The cgroup under which each container gets `<parent>/<id>`.
    public let cgroupParent: String
    /// Where compiled seccomp programs are cached; nil compiles every time.
    public let seccompCache: String?
    public let logger: Logger
    /// How long the child's setup (mounts, the overlay root, the exec itself) may take before the
    /// launch is given up. Generous: a large image on a slow disk must still start; what it ends
    /// is a setup held forever by a mount source that never answers.
    public let setupTimeout: Duration

    public init(cgroups: any CgroupDriver, cgroupParent: String, seccompCache: String?, logger: Logger,
                setupTimeout: Duration = .seconds(60)) {
        self.cgroups = cgroups
        self.cgroupParent = cgroupParent
        self.seccompCache = seccompCache
        self.logger = logger
        self.setupTimeout = setupTimeout
    }

    public func cgroupPath(for id: String) -> CgroupPath { CgroupPath("\(cgroupParent)/\(id)") }

    /// The operations the child will run, for `--debug` and tests.
    public func mountPlan(for config: ContainerConfig, io: LaunchIO) -> [MountOperation] {
        MountPlan.operations(for: config, cgroupMode: cgroups.mode, consolePath: io.terminalPath)
    }

    /// `beforeRelease` runs with the child's pid once it exists, in its namespaces and cgroup,
    /// and before its setup starts: what the container needs from outside before its command
    /// runs (its network). When it throws, the launch is undone.
    ///
    /// `cgroup` replaces the default `<parent>/<id>` (an OCI bundle's cgroupsPath). With
    /// `startFD` (an exec fifo, open read-write) the launch returns once the setup is done and
    /// the process waits, before its command, for a byte on that fifo (`berth-oci create`).
    ///
    /// `mountsReady` runs with the child paused in its mount namespace once its mounts are made,
    /// before pivot_root (an OCI spec's createContainer hooks); when it throws, the launch is
    /// undone. It gets the child's pid and a pidfd of it, valid during the call.
    ///
    /// `duringSetup` runs with the child's pid once the child has been let go, while it sets
    /// itself up: work of the caller's that need not come before (its record), done meanwhile
    /// on the other CPU. When it throws, the launch is undone.
    public func launch(_ config: ContainerConfig, io: LaunchIO, cgroup: CgroupPath? = nil, startFD: Int32? = nil,
                       beforeRelease: ((pid_t) throws -> Void)? = nil,
                       mountsReady: ((pid_t, Int32) throws -> Void)? = nil,
                       duringSetup: ((pid_t) throws -> Void)? = nil) throws -> LaunchedContainer {
        try launch(config, io: io, cgroup: cgroup, startFD: startFD, adopter: nil, beforeRelease: beforeRelease,
                   mountsReady: mountsReady, duringSetup: duringSetup).container
    }

    /// Launches a detached container whose parent is, from its clone on, the process that
    /// becomes its monitor (`monitor`, in a session of its own), so the caller need not be (nor
    /// run a second program to be) that parent. The caller does the parent's part as `launch`
    /// does, with `duringSetup` run while the child sets itself up, then gives the adopter its
    /// verdict (`ContainerAdopter.adopt`) once the container is recorded; a failed launch has
    /// already ended the container and the adopter.
    public func launchAdopted(_ config: ContainerConfig, io: LaunchIO, monitor: MonitorCommand,
                              beforeRelease: ((pid_t) throws -> Void)? = nil,
                              duringSetup: ((pid_t) throws -> Void)? = nil) throws -> (LaunchedContainer, ContainerAdopter) {
        let launched = try launch(config, io: io, cgroup: nil, startFD: nil, adopter: monitor, beforeRelease: beforeRelease,
                                  mountsReady: nil, duringSetup: duringSetup)
        guard let adopter = launched.adopter else { fatalError("an adopted launch always has its adopter") }
        return (launched.container, adopter)
    }

    private func launch(_ config: ContainerConfig, io: LaunchIO, cgroup: CgroupPath?, startFD: Int32?,
                        adopter monitor: MonitorCommand?, beforeRelease: ((pid_t) throws -> Void)?,
                        mountsReady: ((pid_t, Int32) throws -> Void)?,
                        duringSetup: ((pid_t) throws -> Void)?) throws -> (container: LaunchedContainer, adopter: ContainerAdopter?) {
        // Work that can fail without side effects comes first.
        let program = try config.seccomp?.compile(cacheDirectory: seccompCache)
        let operations = mountPlan(for: config, io: io)
        try config.overlay?.validate()
        try config.userNamespace?.validate()
        try Self.checkJoins(of: config)
        let namespaceFiles = try NamespaceFiles(config.joinedNamespaces)
        defer { namespaceFiles.close() }
        // Idmapped layers are attached at short paths of their own: no links needed.
        let overlayShortNames = config.userNamespace == nil ? config.overlay?.shortNamesIfNeeded() : nil
        let lastCap = Int32(CapabilityNames.kernelLastCap)
        let entry = try EntryProgram.sealedCopy()
        if let userNamespace = config.userNamespace {
            if let overlay = config.overlay { try Self.giveUpperDirectories(of: overlay, to: userNamespace) }
            let reached = config.overlay.map { [$0.upperDirectory, $0.workDirectory, $0.linkDirectory] } ?? [config.rootfs]
            try Self.checkSearchable(reached, by: userNamespace)
        }

        let path = cgroup ?? cgroupPath(for: config.id)
        let placement = try cgroups.create(path, limits: config.resources)
        // The metadata is built only when debug logging is on: a Logger's own metadata is a
        // dictionary whose first use costs a run-time conformance lookup.
        logger.debug("cgroup created", metadata: ["container": "\(config.id.prefix(12))", "cgroup": "\(path)"])
        do {
            let args = SpawnArguments(
                container: config, operations: operations, stdio: (io.stdin, io.stdout, io.stderr),
                controllingTerminal: io.terminalPath != nil, placement: placement,
                unshareCgroup: config.namespaces.contains(.cgroup), seccomp: program, lastCap: lastCap,
                overlayShortNames: overlayShortNames, entry: entry, startFD: startFD ?? 0,
                namespaceFiles: namespaceFiles, pauseBeforePivot: mountsReady != nil)
            var result = berth_spawn_result()
            var adopter: ContainerAdopter?
            let rc = try Self.inNetworkNamespace(config.networkNamespacePath) {
                withExtendedLifetime(args) {
                    var cfg = args.config
                    guard let monitor else { return berth_spawn(&cfg, &result) }
                    return monitor.withAdopter { description in
                        var adopterPID: pid_t = 0
                        var goFD: Int32 = -1
                        let rc = berth_spawn_adopted(&cfg, &description, &result, &adopterPID, &goFD)
                        if rc == 0 { adopter = ContainerAdopter(pid: adopterPID, goFD: goFD) }
                        return rc
                    }
                }
            }
            placement.close()
            guard rc == 0 else {
                throw RuntimeError(.systemError, "cannot create the container's process: clone", errno: -rc)
            }
            logger.debug("cloned", metadata: ["container": "\(config.id.prefix(12))", "pid": "\(result.pid)",
                                           "placed-without-attach": "\(result.joined_cgroup != 0)"])
            do {
                let container = try finishStart(config, result: &result, cgroup: path, ownsCgroup: true, operations: operations,
                                                idmapped: IdmappedSources.of(config, operations: operations),
                                                holdsBeforeExec: startFD != nil, beforeRelease: beforeRelease,
                                                mountsReady: mountsReady, duringSetup: duringSetup)
                return (container, adopter)
            } catch {
                // The container is ended already; its parent reaps it and exits.
                adopter?.abandon()
                throw error
            }
        } catch {
            try? cgroups.destroy(path)
            throw error
        }
    }

    /// Runs `config`'s command inside a running container (`berth exec`): in the namespaces of
    /// the process `pidfd` refers to (the container's init) and in its cgroup, with `config`'s
    /// user, environment, working directory, capabilities, no_new_privs and seccomp filter.
    /// Nothing is created, so nothing is removed when it fails. `outlivesCaller`: the process
    /// gets no parent-death signal (berth-oci's `exec --detach` returns at once, as runc's does).
    public func exec(_ config: ContainerConfig, joining pidfd: Int32, cgroup: CgroupPath,
                     io: LaunchIO, outlivesCaller: Bool = false) throws -> LaunchedContainer {
        let program = try config.seccomp?.compile(cacheDirectory: seccompCache)
        let entry = try EntryProgram.sealedCopy()
        let placement = try cgroups.placement(joining: cgroup)
        defer { placement.close() }
        let args = SpawnArguments(
            container: config, operations: [], stdio: (io.stdin, io.stdout, io.stderr),
            controllingTerminal: io.terminalPath != nil, placement: placement, unshareCgroup: false,
            seccomp: program, lastCap: Int32(CapabilityNames.kernelLastCap), overlayShortNames: nil,
            entry: entry, joining: pidfd, outlivesCaller: outlivesCaller)
        var result = berth_spawn_result()
        let rc = withExtendedLifetime(args) {
            var cfg = args.config
            return berth_spawn(&cfg, &result)
        }
        guard rc == 0 else {
            throw RuntimeError(.systemError, "cannot create a process in the container", errno: -rc)
        }
        return try finishStart(config, result: &result, cgroup: cgroup, ownsCgroup: false, operations: [])
    }

    /// Places the child (if clone3 did not), lets it run its setup, and waits for its exec.
    /// A child abandoned in its own new cgroup gets that cgroup's holds lifted first; an exec's
    /// shares the container's, whose limits stay.
    private func finishStart(_ config: ContainerConfig, result: inout berth_spawn_result, cgroup: CgroupPath,
                             ownsCgroup: Bool, operations: [MountOperation],
                             idmapped: IdmappedSources? = nil, holdsBeforeExec: Bool = false,
                             beforeRelease: ((pid_t) throws -> Void)? = nil,
                             mountsReady: ((pid_t, Int32) throws -> Void)? = nil,
                             duringSetup: ((pid_t) throws -> Void)? = nil) throws -> LaunchedContainer {
        func abandon() {
            if ownsCgroup { cgroups.releaseHolds(on: cgroup) }
            if berth_kill_and_reap(&result, Self.reapTimeoutMilliseconds) != 0 {
                logger.warning("the container's process did not end after SIGKILL; left unreaped",
                               metadata: ["container": "\(config.id.prefix(12))", "pid": "\(result.pid)"])
            }
        }
        if result.joined_cgroup == 0 {
            do { try cgroups.attach(pid: result.pid, to: cgroup) } catch { abandon(); throw error }
        }
        if ownsCgroup, let idmapped {
            do {
                try prepare(config.userNamespace, of: &result, idmapping: idmapped)
            } catch {
                abandon()
                throw error
            }
        }
        if let beforeRelease {
            do { try beforeRelease(result.pid) } catch { abandon(); throw error }
        }
        let released = mountsReady != nil ? berth_release_keeping(&result) : berth_release(&result)
        guard released == 0 else {
            abandon()
            throw RuntimeError(.systemError, "cannot start the container's setup", errno: -released)
        }
        if let duringSetup {
            do { try duringSetup(result.pid) } catch { abandon(); throw error }
        }
        var failure = berth_child_error()
        var outcome = berth_wait_exec(&result, &failure, Self.milliseconds(setupTimeout))
        if outcome == 2, let mountsReady {
            // Paused before pivot_root with its mounts made; the setup's deadline starts again
            // after the hooks, which have timeouts of their own.
            // A child of plain clone (clone3 refused) came without a pidfd.
            let pidfd = result.pidfd >= 0 ? result.pidfd : berth_pidfd_open(result.pid)
            defer { if pidfd != result.pidfd && pidfd >= 0 { close(pidfd) } }
            do { try mountsReady(result.pid, pidfd) } catch { abandon(); throw error }
            let resumed = berth_release(&result)
            guard resumed == 0 else {
                abandon()
                throw RuntimeError(.systemError, "cannot let the container's setup go on after its createContainer hooks",
                                   errno: -resumed)
            }
            outcome = berth_wait_exec(&result, &failure, Self.milliseconds(setupTimeout))
        }
        let heldBeforeExec = holdsBeforeExec && outcome == 1 && UInt32(bitPattern: failure.step) == BERTH_STEP_WAIT_START.rawValue
            && failure.error == 0
        if outcome != 0 && !heldBeforeExec {
            // Asked before the kill, while the process still sits where it was held.
            let blocked = outcome == -ETIMEDOUT ? berth_blocked_syscall(result.pid).map { String(cString: $0) } : nil
            abandon()
            if outcome == -ETIMEDOUT {
                throw Self.setupTimedOut(after: setupTimeout, blockedIn: blocked)
            }
            if outcome < 0 {
                throw RuntimeError(.systemError, "cannot learn whether the container started", errno: -outcome)
            }
            throw ChildFailure(failure, config: config, operations: operations).error
        }
        return LaunchedContainer(id: config.id, pid: result.pid, pidfd: result.pidfd, cgroup: cgroup)
    }

    /// A new pid namespace inside a joined user namespace would need a second fork of the child
    /// (the namespace a process unshares is its children's); berth clones once.
    static func checkJoins(of config: ContainerConfig) throws {
        guard config.joinedNamespaces.contains(where: { $0.kind == .user }) else { return }
        if config.namespaces.contains(.pid) {
            throw RuntimeError(.unsupported, "a new pid namespace inside a user namespace joined by path is not supported: "
                               + "join the pid namespace by path too, or make the user namespace new")
        }
        if config.userNamespace != nil {
            throw RuntimeError(.invalidArgument, "the container both joins a user namespace and makes one: give one of them")
        }
    }

    /// Runs `body` (the clone) with this thread in the network namespace at `path`, so the child
    /// starts there; nil runs it where the thread is.
    static func inNetworkNamespace<R>(_ path: String?, _ body: () -> R) throws -> R {
        guard let path else { return body() }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError.system("cannot open the network namespace \(path) to join") }
        defer { close(fd) }
        let own = berth_enter_network_namespace(fd)
        guard own >= 0 else { throw RuntimeError.system("cannot join the network namespace \(path)") }
        defer { berth_leave_network_namespace(own) }
        return body()
    }

    /// The upper and work directories belong to the container's root: overlayfs, mounted inside
    /// the user namespace, creates its files with the mounter's ids, which are the mapped ones.
    /// The link directory is where the child attaches the idmapped layers. (The directories on
    /// the way to them must be searchable by the container's root: the child looks them up.)
    static func giveUpperDirectories(of overlay: OverlayRoot, to userNamespace: UserNamespace) throws {
        try makeDirectories(overlay.linkDirectory, mode: 0o700)
        for path in [overlay.upperDirectory, overlay.workDirectory]
        where lchown(path, userNamespace.hostRootUID, userNamespace.hostRootGID) != 0 {
            throw RuntimeError.system("cannot give \(path) to the container's root (uid \(userNamespace.hostRootUID))",
                                      errno: errno)
        }
    }

    /// The child, root of its user namespace but an unprivileged host uid, looks up the root (or
    /// the overlay's directories) by path: every directory on the way must let it pass. Said
    /// here, naming the directory, rather than as a bare EACCES from the child's setup.
    static func checkSearchable(_ paths: [String], by userNamespace: UserNamespace) throws {
        var checked: Set<String> = []
        for path in paths {
            var directory = path
            while let slash = directory.lastIndex(of: "/"), directory != "/" {
                directory = slash == directory.startIndex ? "/" : String(directory[..<slash])
                guard checked.insert(directory).inserted else { continue }
                var st = stat()
                guard stat(directory, &st) == 0 else { continue }   // the launch reports what is missing
                let passes = st.st_mode & S_IXOTH != 0
                    || (st.st_uid == userNamespace.hostRootUID && st.st_mode & S_IXUSR != 0)
                    || (st.st_gid == userNamespace.hostRootGID && st.st_mode & S_IXGRP != 0)
                guard passes else {
                    throw RuntimeError(.invalidArgument,
                                       "\(directory) does not let the container's root (host uid \(userNamespace.hostRootUID)) "
                                           + "reach \(path) from its user namespace: allow others to search it "
                                           + "(chmod o+x \(directory)) or use --userns=host")
                }
            }
        }
    }

    /// Writes the child's id maps (a user namespace of its own) and hands it its idmapped
    /// mounts, while it waits for the release.
    private func prepare(_ userNamespace: UserNamespace?, of result: inout berth_spawn_result,
                         idmapping idmapped: IdmappedSources) throws {
        var failed: Int32 = 0
        var index: Int32 = -1
        let sources = try idmapped.cSources()
        let rc = withOptionalCString(userNamespace?.uidMapText) { uidMap in
            withOptionalCString(userNamespace?.gidMapText) { gidMap in
                berth_prepare_user_namespace(&result, uidMap, gidMap, sources, sources.count, &failed, &index)
            }
        }
        guard rc != 0 else { return }
        let source = idmapped.sources.indices.contains(Int(index)) ? idmapped.sources[Int(index)].path : "?"
        let what = switch failed {
        case 0: "write the uid map \(userNamespace?.uidMapText.split(separator: "\n").joined(separator: ", ") ?? "")"
        case 1: "write the gid map \(userNamespace?.gidMapText.split(separator: "\n").joined(separator: ", ") ?? "")"
        case 2: "open the child's user namespace"
        case 3: "clone a mount of \(source) (open_tree)"
        case 4: "idmap the mount of \(source) (mount_setattr; its filesystem may not support idmapped mounts)"
        default: "pass the idmapped mounts to the child"
        }
        let whose = userNamespace == nil ? "the container's idmapped mounts" : "the container's user namespace"
        throw RuntimeError(.systemError, "cannot set up \(whose): \(what)", errno: -rc)
    }

    /// SIGKILL ends even a process held by a hung NFS or FUSE mount at once; this only bounds
    /// the wait for one in an uninterruptible sleep.
    static let reapTimeoutMilliseconds: Int32 = 10_000

    /// `duration` as poll's milliseconds: never negative, at most what an Int32 holds.
    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? 0 : .max }
        return Int32(clamping: max(whole + attoseconds / 1_000_000_000_000_000, 0))
    }

    /// The one sentence for a setup that passed its deadline: the child cannot say which step it
    /// was in (it is stuck), but /proc can say which system call held it.
    static func setupTimedOut(after timeout: Duration, blockedIn call: String?) -> RuntimeError {
        let seconds = timeout.components.seconds
        let limit = seconds >= 1 && timeout.components.attoseconds == 0
            ? "\(seconds) second\(seconds == 1 ? "" : "s")"
            : "\(milliseconds(timeout)) ms"
        let held = call.map { " (it was waiting in \($0)(2))" } ?? ""
        return RuntimeError(.systemError,
                            "the container's setup did not finish within \(limit) and was stopped\(held); "
                                + "a mount whose source does not answer, such as a hung NFS or FUSE server, can hold it")
    }
}

/// Calls `body` with `string` as a C string, or NULL.
private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
