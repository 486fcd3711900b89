import CSpawn
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Stopping, signalling, starting and removing containers.
extension ContainerEngine {
    /// Sends `signal` to the container's init (running containers only).
    public func signal(_ record: ContainerRecord, _ signal: Int32) throws {
        let pidfd = try openInit(record)
        defer { close(pidfd) }
        guard berth_pidfd_send_signal(pidfd, signal) == 0 || errno == ESRCH else {
            throw ContainerError.system("cannot signal container \(record.name)")
        }
    }

    /// `berth kill`: Docker's rule is that SIGKILL or the container's stop signal is a stop by
    /// the user, which its restart policy does not undo; other signals (HUP to reload) are not.
    public func kill(_ record: ContainerRecord, signal number: Int32) throws {
        let stops = number == SIGKILL || number == stopSignal(of: record)
        if stops, isRunning(record) {
            store.markStopping(record.id)
            // A container waiting out its back-off then just stays down.
            if record.state.status == .restarting { return }
        }
        try signal(record, number)
        if stops { thawAfterSignal(record) }
    }

    /// A pidfd for the container's init, to signal it or join its namespaces; refused unless
    /// the container runs.
    ///
    /// The pid cannot be another process's: a detached container's monitor keeps its init a
    /// zombie until the record says it ended (a foreground `run` reaps it, then writes the
    /// record a moment later, in which moment the pid is freshly free).
    public func openInit(_ record: ContainerRecord) throws -> Int32 {
        guard isRunning(record), record.state.pid > 0 else {
            if record.state.status == .restarting {
                throw ContainerError(.invalidState, "container \(record.name) is restarting (waiting out its back-off): "
                                     + "try again in a moment, or stop it")
            }
            throw ContainerError(.invalidState, "container \(record.name) is not running: start it first (berth start \(record.name))")
        }
        let pidfd = berth_pidfd_open(record.state.pid)
        guard pidfd >= 0 else {
            if errno == ESRCH { throw ContainerError(.invalidState, "container \(record.name) is not running (its process has ended)") }
            throw ContainerError.system("cannot open container \(record.name)'s process")
        }
        return pidfd
    }

    /// Docker's stop: the stop signal, `timeout` seconds, SIGKILL, then a wait for the monitor to
    /// record the end; a container still there after that has its whole cgroup killed. The
    /// container is marked as stopped on purpose first, so a restart policy never starts it
    /// again behind the user's back. A stop waits for a start, restart or stop of the same
    /// container that another command is doing, then stops what that left. `signal` replaces
    /// the container's stop signal (a Compose service's `stop_signal`).
    public func stop(_ record: ContainerRecord, timeout: Int, signal: Int32? = nil) throws {
        try whileLocked(record) { current in try stopLocked(current, timeout: timeout, signal: signal) }
    }

    /// `stop`, by a command that holds the container's lifecycle lock.
    private func stopLocked(_ record: ContainerRecord, timeout: Int, signal: Int32? = nil) throws {
        store.markStopping(record.id)
        guard isRunning(record) else { return }
        if timeout > 0 {
            signalCurrent(record, signal ?? stopSignal(of: record))
            thawAfterSignal(record)
            if waitUntilReleased(record.id, milliseconds: timeout * 1000) { return }
        }
        signalCurrent(record, SIGKILL)
        thawAfterSignal(record)
        if waitUntilReleased(record.id, milliseconds: 5_000) { return }
        // A process SIGKILL does not end (a half-started container, one in a frozen cgroup):
        // the cgroup's removal kills everything in it, and the monitor then sees its init end.
        try? cgroups.destroy(CgroupPath(record.hostConfig.cgroup))
        if waitUntilReleased(record.id, milliseconds: 5_000) { return }
        throw ContainerError(.systemError, "container \(record.name) did not stop within 10 seconds of SIGKILL")
    }

    /// The signal `stop` sends first: the image's or `run`'s StopSignal, SIGTERM without one.
    public func stopSignal(of record: ContainerRecord) -> Int32 {
        record.config.stopSignal.flatMap(SignalName.number) ?? SIGTERM
    }

    /// Docker's rule for a paused container that is stopped or killed: thawed after the signal,
    /// so it acts on it (a frozen task does not, except v2's for SIGKILL) and ends.
    private func thawAfterSignal(_ record: ContainerRecord) {
        guard hasFrozenCgroup(record) else { return }
        do {
            try cgroups.thaw(CgroupPath(record.hostConfig.cgroup))
        } catch {
            logger.warning("cannot unpause the container to stop it", metadata: ["container": "\(record.name)", "error": "\(error)"])
        }
    }

    /// Signals the container's init as its record says now: a container being started has no
    /// pid in the record it was read from yet.
    private func signalCurrent(_ record: ContainerRecord, _ number: Int32) {
        let current = (try? store.load(id: record.id)) ?? record
        try? signal(current, number)
    }

    /// Starts a created or exited container again, in the background, from its launch spec. A
    /// start by hand gives the restart policy its full count again (Docker's rule). A container
    /// that runs already, or that another command started meanwhile, is left as it is: that is
    /// a success, as with `docker start`.
    public func start(_ record: ContainerRecord) throws {
        try whileLocked(record) { current in try startLocked(current) }
    }

    /// `start`, by a command that holds the container's lifecycle lock.
    private func startLocked(_ record: ContainerRecord) throws {
        guard !isRunning(record) else { return }
        guard record.hasImage else {
            throw ContainerError(.unsupported, "container \(record.name) runs in a --rootfs directory and cannot be started again")
        }
        store.clearStopping(record.id)
        var record = record
        if record.restartCount != 0 || record.backOffStep != 0 {
            record.restartCount = 0
            record.backOffStep = 0
            try store.write(record, durable: false)
        }
        try startDetached(record)
    }

    /// Stops the container, then starts it again. Two restarts at once are done one after the
    /// other: each one's stop waits for no container that the other has just started.
    public func restart(_ record: ContainerRecord, timeout: Int) throws {
        try whileLocked(record) { current in
            try stopLocked(current, timeout: timeout)
            try startLocked(try store.load(id: current.id))
        }
    }

    /// Removes a container; a running (or restarting) one only with `force`, after stopping it.
    /// Of two removals at once, one succeeds and the other says "no such container".
    public func remove(_ record: ContainerRecord, force: Bool) throws {
        // Docker's rm -f kills at once, even while another command holds the lock for a polite
        // stop or a restart (whose wait then ends too); the stop under the lock makes sure.
        if force, state(of: record).isUp {
            store.markStopping(record.id)
            signalCurrent(record, SIGKILL)
        }
        try whileLocked(record) { current in
            let state = state(of: current)
            if state.isUp {
                guard force else {
                    throw ContainerError(.invalidState, "container \(current.name) is \(state.status.rawValue): "
                                         + "stop it first, or remove it with berth rm -f")
                }
                try stopLocked(current, timeout: 0)
            }
            do {
                try store.remove(current)
            } catch let error as ContainerError where error.code == .notFound && current.hostConfig.autoRemove {
                // A --rm container's monitor removed it at the end this stop brought: as asked.
            }
        }
    }

    /// Runs `body` on the container's record as it is once this command holds the container's
    /// lifecycle lock (`ContainerStore.lockLifecycle`), and lets go of the lock after it.
    private func whileLocked(_ record: ContainerRecord, _ body: (ContainerRecord) throws -> Void) throws {
        let (lock, current) = try store.lockLifecycle(of: record)
        defer { lock.release() }
        try body(current)
    }
}

/// The runtime's signal names, under the name the engine's callers (Compose, Build) know.
public typealias SignalName = Runtime.SignalName
