import FileSystem
#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Removes cgroup directories, killing what still runs inside, within one shared deadline.
///
/// The first rmdir comes before any kill: after a container's init has exited its cgroup is
/// usually empty, so the common case costs one syscall. The kernel answers EBUSY while processes
/// remain or child cgroups exist; killed processes take a moment to leave, hence the bounded retry.
struct CgroupRemoval {
    let syscalls: CgroupSyscalls
    /// v2 kernels from 5.14 kill a whole subtree race-free through `cgroup.kill`; v1 never has it.
    let useKillFile: Bool
    let deadline: ContinuousClock.Instant
    let timeout: Duration
    /// Runs once, before the first kill: what the driver must do for a kill to take effect (v1
    /// thaws a frozen cgroup). Only on the slow path, so an emptied cgroup costs nothing more.
    let beforeKilling: (() -> Void)?

    init(syscalls: CgroupSyscalls, useKillFile: Bool, timeout: Duration, beforeKilling: (() -> Void)? = nil) {
        self.syscalls = syscalls
        self.useKillFile = useKillFile
        self.timeout = timeout
        self.deadline = ContinuousClock.now.advanced(by: timeout)
        self.beforeKilling = beforeKilling
    }

    /// Kills everything in `directory` (and any child cgroup the container made) and removes it.
    /// A directory that is already gone counts as removed.
    func remove(_ directory: String) throws(RuntimeError) {
        var delayMicros: UInt32 = 1_000
        var removedChildren = false
        while true {
            do {
                try syscalls.removeDirectory(directory)
                return
            } catch .noSuchFileOrDirectory {
                return
            } catch .resourceBusy {
                // Still populated or has child cgroups: kill, then look again.
            } catch {
                throw CgroupErrors.system("cannot remove cgroup: rmdir \(directory)", error)
            }
            if !removedChildren { beforeKilling?() }
            killAll(in: directory)
            if !removedChildren {
                // Only here, on the slow path, is a directory walk worth its cost: a container
                // that made its own cgroups (systemd, nested runtimes) leaves them behind.
                removedChildren = true
                for child in childDirectories(of: directory) {
                    try remove(child)
                }
                continue
            }
            guard ContinuousClock.now < deadline else {
                throw RuntimeError(.systemError,
                                   "cannot remove cgroup \(directory): processes still inside after \(timeout.wholeMilliseconds) ms",
                                   errno: EBUSY)
            }
            usleep(delayMicros)
            delayMicros = min(delayMicros * 2, 50_000)
        }
    }

    /// Kills every process in `directory`. Runs on every retry, since a process may fork between
    /// reading cgroup.procs and the kill; cgroup.kill has no such window.
    private func killAll(in directory: String) {
        if useKillFile {
            do {
                try ControlFile.write("1", to: directory + "/cgroup.kill")
                return
            } catch {
                // Kernels before 5.14 lack cgroup.kill: fall back to killing pid by pid.
            }
        }
        guard let procs = try? ControlFile.read(directory + "/cgroup.procs") else { return }
        for line in procs.split(separator: "\n") {
            if let pid = pid_t(line), pid > 0 { syscalls.kill(pid) }
        }
    }

    private func childDirectories(of directory: String) -> [String] {
        // cgroupfs fills in d_type: the child cgroups are the directories, without a stat each.
        let entries = (try? Directory.entries(atPath: directory)) ?? []
        return entries.filter { $0.type == UInt8(DT_DIR) }.map { directory + "/" + String(decoding: $0.name, as: UTF8.self) }
    }
}
