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
    public func launch(_ config: ContainerConfig, io: LaunchIO, cgroup: CgroupPath? = nil, startFD: Int32? = nil,
                       beforeRelease: ((pid_t) throws -> Void)? = nil) throws -> LaunchedContainer {
        var log = logger
        log[metadataKey: "container"] = "\(config.id.prefix(12))"
        // Work that can fail without side effects comes first.
        let program = try config.seccomp?.compile(cacheDirectory: seccompCache)
        let operations = mountPlan(for: config, io: io)
        try config.overlay?.validate()
        try config.userNamespace?.validate()
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
        log.debug("cgroup created", metadata: ["cgroup": "\(path)"])
        do {
            let args = SpawnArguments(
                container: config, operations: operations, stdio: (io.stdin, io.stdout, io.stderr),
                controllingTerminal: io.terminalPath != nil, placement: placement,
                unshareCgroup: config.namespaces.contains(.cgroup), seccomp: program, lastCap: lastCap,
                overlayShortNames: overlayShortNames, entry: entry, startFD: startFD ?? 0)
            var result = berth_spawn_result()
            let rc = try Self.inNetworkNamespace(config.networkNamespacePath) {
                withExtendedLifetime(args) {
                    var cfg = args.config
                    return berth_spawn(&cfg, &result)
                }
            }
            placement.close()
            guard rc == 0 else {
                throw RuntimeError(.systemError, "cannot create the container's process: clone", errno: -rc)
            }
            log.debug("cloned", metadata: ["pid": "\(result.pid)", "placed-without-attach": "\(result.joined_cgroup != 0)"])
            return try finishStart(config, result: &result, cgroup: path, ownsCgroup: true, operations: operations,
                                   idmapped: IdmappedSources.of(config, operations: operations), holdsBeforeExec: startFD != nil,
                                   beforeRelease: beforeRelease)
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
                             beforeRelease: ((pid_t) throws -> Void)? = nil) throws -> LaunchedContainer {
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
        let released = berth_release(&result)
        guard released == 0 else {
            abandon()
            throw RuntimeError(.systemError, "cannot start the container's setup", errno: -released)
        }
        var failure = berth_child_error()
        let outcome = berth_wait_exec(&result, &failure, Self.milliseconds(setupTimeout))
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
