import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Pausing and unpausing containers: their cgroup frozen and thawed (the v1 freezer hierarchy,
/// v2's cgroup.freeze). Nothing about a pause is recorded: the kernel's freezer state is the
/// truth, read again by every command that asks.
extension ContainerEngine {
    /// `berth pause`: every process of a running container is frozen until `unpause`.
    public func pause(_ record: ContainerRecord) throws {
        guard isRunning(record), record.state.status == .running else {
            throw ContainerError(.invalidState, "container \(record.name) is not running: only a running container can be paused")
        }
        guard !isPaused(record) else {
            throw ContainerError(.invalidState, "container \(record.name) is already paused: unpause it with berth unpause \(record.name)")
        }
        do {
            try cgroups.freeze(CgroupPath(record.hostConfig.cgroup))
        } catch let error as ContainerError {
            throw error.context("cannot pause container \(record.name)")
        }
    }

    /// `berth unpause`: a paused container's processes run again.
    public func unpause(_ record: ContainerRecord) throws {
        guard isPaused(record) else {
            throw ContainerError(.invalidState, "container \(record.name) is not paused: only a paused container can be unpaused")
        }
        do {
            try cgroups.thaw(CgroupPath(record.hostConfig.cgroup))
        } catch let error as ContainerError {
            throw error.context("cannot unpause container \(record.name)")
        }
    }

    /// Whether the container runs with its processes frozen (or being frozen). A container whose
    /// cgroup has no freezer state to read (one started before berth made a freezer cgroup) is
    /// not paused: berth cannot have paused it.
    public func isPaused(_ record: ContainerRecord) -> Bool {
        isRunning(record) && hasFrozenCgroup(record)
    }

    /// Whether the container's init still runs (or is not yet reaped): a missing cgroup then is
    /// one its berth never made, not one its end removed.
    private func hasLiveInit(_ record: ContainerRecord) -> Bool {
        guard let pidfd = try? openInit(record) else { return false }
        defer { close(pidfd) }
        return !Self.hasEnded(pid: record.state.pid, pidfd: pidfd)
    }

    /// The freezer's answer alone, for callers that know the container runs.
    func hasFrozenCgroup(_ record: ContainerRecord) -> Bool {
        (try? cgroups.isFrozen(CgroupPath(record.hostConfig.cgroup))) ?? false
    }

    /// Runs `body` with the container paused when `pause` is set and the container runs, and
    /// thaws it afterwards, also when `body` throws: what `commit` does, so the files it reads
    /// do not change under it (Docker's `commit --pause`). A container the user paused stays
    /// paused; one that is not running is left alone. `purpose` completes the sentence of a
    /// container that cannot be paused: "cannot pause container web for …".
    public func whilePaused<T>(_ record: ContainerRecord, pause: Bool = true, for purpose: String,
                               _ body: () throws -> T) throws -> T {
        guard pause, isRunning(record), record.state.status == .running, !isPaused(record) else { return try body() }
        let cgroup = CgroupPath(record.hostConfig.cgroup)
        do {
            try cgroups.freeze(cgroup)
        } catch let error as ContainerError where error.code == .notFound && !hasLiveInit(record) {
            // The container ended (and its cgroup went) since it was seen running: nothing to pause.
            return try body()
        } catch let error as ContainerError {
            throw error.context("cannot pause container \(record.name) for \(purpose)")
        }
        let outcome = Result { try body() }
        do {
            try cgroups.thaw(cgroup)
        } catch let error as ContainerError where error.code == .notFound {
            // Killed meanwhile (rm -f, its monitor's end) and its cgroup removed: nothing stays paused.
        } catch let error as ContainerError {
            // body's own failure says more; the container staying paused is then logged.
            if case .failure = outcome {
                logger.error("container stays paused", metadata: ["container": "\(record.name)", "error": "\(error)"])
            } else {
                throw error.context("container \(record.name) stays paused (unpause it with berth unpause \(record.name))")
            }
        }
        return try outcome.get()
    }
}
