import FileSystem
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// berth's runtime state for containers that are running: `<path>/containers/<id>/` holds a
/// `lock` that the berth process running the container keeps flock'ed, and `cgroup`, the
/// cgroup to remove. A directory whose lock nobody holds belongs to a berth that was killed
/// (SIGKILL, a crash): the next berth command removes its cgroup and the directory.
///
/// A released record is kept in `<path>/spares/<N>` (N below `spareSlots`) for the next
/// container, as the state root keeps record directories (`SpareRecordDirectories`): the
/// directory is usually a tmpfs, but a state root given with `--root` keeps it on disk, where a
/// record made and removed at each run costs three new inodes and a freed block (a synchronous
/// discard on a file system mounted with `discard`).
public struct RuntimeDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    private var containers: String { path + "/containers" }
    private var spares: String { path + "/spares" }
    static let spareSlots = 4
    static let cgroupSpare = "cgroup.spare"

    /// The running container's own directory: files it needs only while it runs (its name
    /// files) go here, and go with its record.
    public func directory(of id: String) -> String { containers + "/" + id }

    /// Records a container before any of its resources exist, and holds its lock.
    public func register(id: String, cgroup: CgroupPath) throws -> ContainerLease {
        let dir = containers + "/" + id
        let fd: Int32
        if let claimed = claimSpare(as: dir) {
            fd = claimed
        } else {
            try makeDirectories(dir)
            fd = try takeLock(dir + "/lock", id: id)
        }
        do {
            try AtomicFile.replace(dir + "/cgroup", with: Array((cgroup.relative + "\n").utf8), reusing: dir + "/" + Self.cgroupSpare)
        } catch {
            close(fd)
            removeRecord(dir)
            throw RuntimeError.system("cannot \(error.call) \(error.path)", errno: error.errno)
        }
        return ContainerLease(directory: dir, lockFD: fd, spares: spares)
    }

    /// Renames a spare record to `directory`, its lock taken first: whoever finds the record
    /// under its new name finds it held. The lock's fd; nil when there is no spare to take.
    private func claimSpare(as directory: String) -> Int32? {
        for index in 0..<Self.spareSlots {
            let spare = spares + "/" + String(index)
            let fd = open(spare + "/lock", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            // Held by another berth claiming it, or by one retiring a record into this slot.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0, rename(spare, directory) == 0 else {
                close(fd)
                continue
            }
            // The holder a retired lease recorded in it (`recordHolder`) is not this one.
            _ = ftruncate(fd, 0)
            return fd
        }
        return nil
    }

    /// Opens and locks the container's lock file. A new lock is locked before it gets its name
    /// (made under a temporary name, then linked), so another berth that finds it (a liveness
    /// probe, the cleanup of crashed containers) never sees it unheld; an old one left by an
    /// earlier run of the same container is taken over if nobody holds it.
    private func takeLock(_ lockPath: String, id: String) throws -> Int32 {
        let existing = open(lockPath, O_RDWR | O_CLOEXEC)
        if existing >= 0 {
            // A probe holds it for microseconds; a running container's berth for its life.
            for attempt in 0..<4 {
                if flock(existing, LOCK_EX | LOCK_NB) == 0 {
                    // The holder an earlier run recorded in it (`recordHolder`) is not this one.
                    _ = ftruncate(existing, 0)
                    return existing
                }
                if attempt < 3 { usleep(5_000) }
            }
            close(existing)
            throw RuntimeError(.conflict, "container \(id) is already running (\(lockPath) is locked)")
        }
        let temporary = lockPath + ".new-\(getpid())"
        let fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RuntimeError.system("cannot create \(temporary)") }
        defer { unlink(temporary) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw RuntimeError.system("cannot lock \(temporary)")
        }
        guard link(temporary, lockPath) == 0 else {
            let err = errno
            close(fd)
            if err == EEXIST {
                throw RuntimeError(.conflict, "container \(id) is being started by another berth (\(lockPath) appeared)")
            }
            throw RuntimeError.system("cannot create \(lockPath)", errno: err)
        }
        return fd
    }

    /// The lease of a container whose lock this process inherited already held (a monitor
    /// exec'd with the lock's fd): `release()` then removes the record as usual.
    public func adopt(id: String, lockFD: Int32) throws -> ContainerLease {
        let dir = containers + "/" + id
        var fdStat = stat()
        var fileStat = stat()
        // The fd must be this container's lock, not whatever a confused caller passed.
        guard fstat(lockFD, &fdStat) == 0, stat(dir + "/lock", &fileStat) == 0,
              fdStat.st_ino == fileStat.st_ino, fdStat.st_dev == fileStat.st_dev else {
            throw RuntimeError(.invalidArgument, "fd \(lockFD) is not the lock of container \(id.prefix(12))")
        }
        _ = fcntl(lockFD, F_SETFD, FD_CLOEXEC)
        return ContainerLease(directory: dir, lockFD: lockFD, spares: spares)
    }

    /// Whether a live berth process holds the container's record: the kernel drops a flock with
    /// its holder, so this is true exactly while the container's supervisor runs.
    public func isHeld(id: String) -> Bool {
        let fd = open(containers + "/" + id + "/lock", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // Only a probe: take and drop at once, in shared mode so two probes never collide.
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { return true }
        flock(fd, LOCK_UN)
        return false
    }

    /// Removes what containers of crashed berth processes left behind. Returns their ids.
    @discardableResult
    public func removeLeftovers(cgroups: any CgroupDriver, logger: Logger) -> [String] {
        let names = listDirectory(containers)

        var removed: [String] = []
        for id in names {
            let record = containers + "/" + id
            let fd = open(record + "/lock", O_RDWR | O_CLOEXEC)
            if fd < 0 {
                // No lock: half removed, or being created right now by another berth (register
                // makes the directory first). Only an old one is certainly dead.
                if errno == ENOENT, isOlderThan(record, seconds: 60),
                   cleanUp(record, id: id, cgroups: cgroups, logger: logger) {
                    removed.append(id)
                }
                continue
            }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }   // its berth is alive
            if cleanUp(record, id: id, cgroups: cgroups, logger: logger) { removed.append(id) }
        }
        return removed
    }

    /// Removes the record's cgroup, then the record. False when the cgroup could not be
    /// removed: the record stays so that a later command tries again.
    private func cleanUp(_ record: String, id: String, cgroups: any CgroupDriver, logger: Logger) -> Bool {
        if let text = try? readSmallFile(record + "/cgroup") {
            let cgroup = CgroupPath(text.trimmingWhitespace())
            do {
                try cgroups.destroy(cgroup)
            } catch {
                logger.warning("cannot remove a crashed container's cgroup",
                               metadata: ["container": "\(id.prefix(12))", "cgroup": "\(cgroup)", "error": "\(error)"])
                return false
            }
        }
        logger.info("removed the leftovers of a crashed container", metadata: ["container": "\(id.prefix(12))"])
        removeRecord(record)
        return true
    }

    private func isOlderThan(_ path: String, seconds: Int) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return time(nil) - st.st_mtim.tv_sec > seconds
    }
}

/// Proof that this process owns a running container's record; `release()` removes it.
public final class ContainerLease: @unchecked Sendable {
    public let directory: String
    private var lockFD: Int32
    /// Where `release()` keeps the record for the next container (`RuntimeDirectory`).
    private let spares: String

    init(directory: String, lockFD: Int32, spares: String) {
        self.directory = directory
        self.lockFD = lockFD
        self.spares = spares
    }

    /// The lock's fd, made to survive execve, for a process that replaces itself with the
    /// container's monitor and keeps the container's record locked while it lives.
    public func inheritableLockFD() -> Int32 {
        _ = fcntl(lockFD, F_SETFD, 0)
        return lockFD
    }

    /// The lock's fd as it is (close-on-exec), for a process forked to hold the lock after us:
    /// it makes its own copy inheritable (`recordHolder`, then `handOver`).
    public var lockDescriptor: Int32 { lockFD }

    /// Says that `pid`, forked with the lock's fd, holds the lock too: the kernel's lock table
    /// keeps naming the process that took it (this one), and `holder(of:)` must find the one
    /// that stays. Written into the lock file itself: one system call, no file of its own.
    public func recordHolder(_ pid: pid_t) throws {
        let text = Array("\(pid)\n".utf8)
        guard text.withUnsafeBytes({ pwrite(lockFD, $0.baseAddress, $0.count, 0) }) == text.count else {
            throw RuntimeError.system("cannot record the holder of \(directory)/lock")
        }
    }

    /// Closes this process's fd of the lock, which the recorded holder keeps: a flock belongs to
    /// the open file, not to one fd of it, so the record stays locked while that process lives.
    public func handOver() {
        closeOwnLockFD()
    }

    /// Call after the container's cgroup is gone.
    public func release() {
        guard lockFD >= 0 else { return }
        if !retire() { removeRecord(directory) }
        closeOwnLockFD()
    }

    /// Keeps the record as a spare when a slot is free: its files but the lock and the cgroup go,
    /// it leaves the containers still locked (renamed), and its cgroup file takes its spare name.
    private func retire() -> Bool {
        for name in listDirectory(directory) where name != "lock" && name != "cgroup" { unlink(directory + "/" + name) }
        for attempt in 0..<2 {
            for index in 0..<RuntimeDirectory.spareSlots {
                let spare = spares + "/" + String(index)
                guard rename(directory, spare) == 0 else { continue }
                rename(spare + "/cgroup", spare + "/" + RuntimeDirectory.cgroupSpare)
                return true
            }
            // The first release in this directory makes the place for spares.
            guard attempt == 0, mkdir(spares, 0o755) == 0 else { return false }
        }
        return false
    }

    /// Leaves the record for the next command's cleanup (the cgroup could not be removed now)
    /// and lets go of the lock so that cleanup may take it.
    public func keepForRecovery() {
        closeOwnLockFD()
    }

    private func closeOwnLockFD() {
        guard lockFD >= 0 else { return }
        close(lockFD)
        lockFD = -1
    }
}

/// Removes a record's files (strays such as a crashed writer's temp file too), the lock last,
/// so a crash in between still leaves a lock-less record that a later cleanup recognises.
private func removeRecord(_ dir: String) {
    for name in listDirectory(dir) where name != "lock" { unlink(dir + "/" + name) }
    unlink(dir + "/lock")
    rmdir(dir)
}

extension RuntimeDirectory {
    /// The pid of the process that holds the container's lock (its berth or monitor), as the
    /// kernel's lock table says; nil when nobody does.
    public func holder(of id: String) -> pid_t? {
        // A lock handed over (`ContainerLease.recordHolder`) still shows the pid that took it.
        if let text = try? readSmallFile(containers + "/" + id + "/lock"), let pid = pid_t(text.trimmingWhitespace()) {
            return pid
        }
        var st = stat()
        guard stat(path + "/containers/" + id + "/lock", &st) == 0,
              let table = try? readSmallFile("/proc/locks") else { return nil }
        // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:56789 0 EOF"; waiters' lines have "->".
        let dev = UInt64(st.st_dev)
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
        let minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
        let file = "\(String(major, radix: 16).leftPadded(2)):\(String(minor, radix: 16).leftPadded(2)):\(st.st_ino)"
        for line in table.split(separator: "\n") where !line.contains("->") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5] == file else { continue }
            return pid_t(fields[4])
        }
        return nil
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
