import Runtime

/// `berth top`.
extension ContainerEngine {
    /// The processes of a running (or paused) container, ps-like: the pids of its cgroup, read
    /// from /proc.
    public func processes(of record: ContainerRecord) throws -> ProcessTable {
        guard isRunning(record), record.state.status == .running else {
            throw ContainerError(.invalidState, "container \(record.name) is not running: start it first (berth start \(record.name))")
        }
        let pids: [Int32]
        do {
            pids = try cgroups.processes(in: CgroupPath(record.hostConfig.cgroup))
        } catch let error as ContainerError where error.code == .notFound {
            // Its cgroup went with its end, since it was seen running.
            throw ContainerError(.invalidState, "container \(record.name) is not running (it has just ended)", cause: error)
        } catch let error as ContainerError {
            throw error.context("cannot list the processes of container \(record.name)")
        }
        return ProcessTable.read(pids: pids)
    }
}
