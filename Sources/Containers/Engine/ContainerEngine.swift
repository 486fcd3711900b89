import ImageStore
import Logging
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The container engine: everything berth does to containers, as a library the CLI (and the
/// deploy supervisor, the builder and the OCI runtime CLI after it) calls. It creates containers
/// from images or root directories, runs them in the foreground or in the background under a
/// monitor, stops, kills, execs into, restarts and removes them, and answers what they are.
///
/// There is no daemon: an engine is a set of paths and the host's cgroup driver, and every
/// operation reads the state it needs from disk and the kernel, under the store's locks.
public struct ContainerEngine: Sendable {
    /// The state root (`--root`): images, container records and logs.
    public let stateRoot: String
    /// Runtime state of running containers: their locks, the seccomp cache.
    public let runRoot: String
    public let store: ContainerStore
    public let runDirectory: RuntimeDirectory
    public let cgroups: any CgroupDriver
    public let logger: Logger
    /// The options a berth started by the engine (a container's monitor's `monitor-exit`) must
    /// be given to see the same state.
    public let forwardedArguments: [String]
    /// berth and berth-monitor, for detached containers; nil finds them next to this executable.
    public let programs: MonitorPrograms?
    /// The subordinate id files `--userns=auto` takes its ranges from (tests give their own).
    public var subordinateIDFiles = SubordinateIDFiles.system

    public init(stateRoot: String, runRoot: String, forwardedArguments: [String] = [], programs: MonitorPrograms? = nil,
                logger: Logger) throws {
        self.programs = programs
        self.stateRoot = stateRoot
        self.runRoot = runRoot
        self.forwardedArguments = forwardedArguments
        self.logger = logger
        // Every container's upper directory is under the state root: a root overlayfs cannot
        // mount from is refused here, by every command, before a directory of it exists.
        try ImageStore.checkRoot(stateRoot)
        store = try ContainerStore(root: stateRoot)
        runDirectory = RuntimeDirectory(path: runRoot)
        cgroups = makeCgroupDriver()
    }

    /// The launcher for containers whose cgroups go under `cgroupParent`.
    public func launcher(cgroupParent: String) -> Launcher {
        Launcher(cgroups: cgroups, cgroupParent: cgroupParent, seccompCache: runRoot + "/seccomp", logger: logger)
    }

    /// The image store of the same state root.
    public func images() throws -> ImageStore { try ImageStore(root: stateRoot) }

    /// Removes what killed berth processes left behind: the cgroups and runtime records of
    /// containers whose supervisor is gone.
    /// Their network leases, ports and veths too: looked for only when a supervisor is found
    /// dead, so a `run` among many running containers reads no leases.
    public func removeLeftovers() {
        if !runDirectory.removeLeftovers(cgroups: cgroups, logger: logger).isEmpty { reconcileNetworks() }
    }

    /// `removeLeftovers`, and also the container directories of interrupted creations and
    /// removals and every lease of a container that no longer runs: what the commands that list
    /// containers, or change one's state (start, stop, kill, rm, rename), do first.
    ///
    /// The commands that act on one container without starting or stopping it (exec, logs, top,
    /// wait, cp, export, update) skip it: `find` already refuses a name link that a cut rename
    /// left, `state(of:)` asks the kernel whether the supervisor lives, and the other
    /// containers' leftovers are no business of theirs. The tidy-up costs a few system calls per
    /// container, which `exec` among 100 containers would pay on every call.
    public func tidy() {
        store.removeIncomplete()
        runDirectory.removeLeftovers(cgroups: cgroups, logger: logger)
        reconcileNetworks()
    }

    // MARK: looking up

    /// The container `name` names (a full id, a name, or a unique id prefix).
    public func find(_ name: String) throws -> ContainerRecord { try store.find(name) }

    /// Whether the container's supervisor (its berth or monitor) is alive.
    public func isRunning(_ record: ContainerRecord) -> Bool { runDirectory.isHeld(id: record.id) }

    /// The record's state checked against the kernel, a running container's pause included.
    public func state(of record: ContainerRecord) -> ContainerState {
        var state = record.verified(isRunning: runDirectory.isHeld(id:))
        if state.status == .exited, record.state.status != .exited, let current = try? store.load(id: record.id) {
            // The supervisor writes the container's end before it lets go of the lock, so a
            // record read just before that write says running while the lock is already free:
            // the record read again now holds the exit code.
            state = current.verified(isRunning: runDirectory.isHeld(id:))
        }
        state.paused = state.status == .running && hasFrozenCgroup(record)
        return state
    }

    /// Every container, oldest first, after removing the `--rm` ones whose berth was killed
    /// before it could remove them (they are recorded as running, and nothing runs them).
    public func list() -> [ContainerRecord] {
        store.all().filter { record in
            guard record.hostConfig.autoRemove, record.state.status == .running else { return true }
            // An end without an exit code is one nobody saw: its berth was killed.
            let state = state(of: record)
            guard state.status == .exited, state.exitCode == nil else { return true }
            guard (try? store.removeIfPresent(record)) != nil else { return true }
            // Its anonymous volumes go with it, as the end its killed berth never reached would have done.
            removeAnonymousVolumes(of: record)
            return false
        }
    }
}
