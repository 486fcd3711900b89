import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension ContainerEngine {
    /// What a detached container's monitor process does when the container has ended (`berth
    /// monitor-exit`): records the status, removes the cgroup, and restarts the container when
    /// its policy says so, becoming its monitor again (this does not return then); otherwise
    /// writes the final record, lets go of the container's lock and returns.
    ///
    /// `lockFD` is the container's runtime lock, inherited held; `exitStatus` the exit code, or
    /// 128+N for signal N.
    public func monitorExit(id: String, lockFD: Int32, exitStatus: Int32) throws {
        var record = try store.load(id: id)
        let lease = try runDirectory.adopt(id: id, lockFD: lockFD)
        let cgroup = CgroupPath(record.hostConfig.cgroup)
        let oomKilled = exitStatus == 128 + SIGKILL && ((try? cgroups.events(of: cgroup).oomKills) ?? 0) > 0
        let cgroupRemoved = (try? cgroups.destroy(cgroup)) != nil
        leaveNetwork(record)
        record.state = record.state.ended(exitCode: exitStatus, oomKilled: oomKilled)

        let policy = record.hostConfig.restartPolicy
        if cgroupRemoved, policy.shouldRestart(exitCode: exitStatus, restarts: record.restartCount,
                                              stoppedByUser: store.isStopping(id)) {
            let ranSeconds = (Timestamp.parse(record.state.finishedAt ?? "") ?? 0) - (Timestamp.parse(record.state.startedAt ?? "") ?? 0)
            record.backOffStep = RestartPolicy.backOffStep(after: record.backOffStep, ranSeconds: ranSeconds)
            record.state.status = .restarting
            try? store.write(record, durable: false)
            reapEndedChildren()
            // A stop, kill or rm during the back-off marks the container: the wait ends at once.
            if !waitForStopRequest(id, milliseconds: policy.delayMilliseconds(step: record.backOffStep)) {
                record.restartCount += 1
                record.backOffStep += 1
                do {
                    try becomeMonitor(record, config: try launchConfig(of: record), lease: lease,
                                      programs: try monitorPrograms())
                } catch {
                    // The container stays down; its log says why.
                    logger.error("cannot restart the container", metadata: ["container": "\(record.shortID)", "error": "\(error)"])
                    record.state.status = .exited
                    try? store.write(record, durable: false)
                    lease.release()
                    throw error
                }
            }
            record.state.status = .exited
        }
        // The record is final before the lock goes: whoever waits for the lock (stop, then
        // start or rm) reads this end, and nothing it writes next is overwritten.
        if record.hostConfig.autoRemove {
            try? store.remove(record)
            removeAnonymousVolumes(of: record)
        } else {
            try? store.write(record, durable: false)
        }
        reapEndedChildren()
        if cgroupRemoved { lease.release() } else { lease.keepForRecovery() }
    }

    /// Reaps the container's init, which berth-monitor left a zombie so that its pid stayed
    /// taken while the record named it (and whatever else of this process's children ended).
    private func reapEndedChildren() {
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    }
}
