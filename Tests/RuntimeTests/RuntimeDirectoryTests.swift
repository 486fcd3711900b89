import Foundation
import Logging
import Synchronization
import Testing
import Runtime

/// A `CgroupDriver` that only records which cgroups it was asked to destroy; destroying a path
/// in `failing` throws, as a cgroup that still has a process stuck in the kernel would.
final class RecordingCgroupDriver: CgroupDriver {
    let mode: CgroupMode = .unified
    private let state = Mutex<(destroyed: [CgroupPath], failing: Set<CgroupPath>)>(([], []))

    init(failing: Set<CgroupPath> = []) {
        state.withLock { $0.failing = failing }
    }

    var destroyed: [CgroupPath] { state.withLock { $0.destroyed } }

    func create(_ path: CgroupPath, limits: ResourceLimits) throws -> CgroupPlacement {
        Issue.record("create must not be called")
        return CgroupPlacement(directoryFD: nil)
    }

    func attach(pid: pid_t, to path: CgroupPath) throws {
        Issue.record("attach must not be called")
    }

    func placement(joining path: CgroupPath) throws -> CgroupPlacement {
        Issue.record("placement must not be called")
        return CgroupPlacement(directoryFD: nil)
    }

    func events(of path: CgroupPath) throws -> CgroupEvents {
        Issue.record("events must not be called")
        return CgroupEvents(oomKills: 0)
    }

    func freeze(_ path: CgroupPath) throws {
        Issue.record("freeze must not be called")
    }

    func thaw(_ path: CgroupPath) throws {
        Issue.record("thaw must not be called")
    }

    func releaseHolds(on path: CgroupPath) {
        Issue.record("releaseHolds must not be called")
    }

    func update(_ path: CgroupPath, limits: ResourceLimits) throws {
        Issue.record("update must not be called")
    }

    func processes(in path: CgroupPath) throws -> [pid_t] {
        Issue.record("processes must not be called")
        return []
    }

    func stats(of path: CgroupPath) throws -> CgroupStats {
        Issue.record("stats must not be called")
        return CgroupStats(cpuNanoseconds: nil, memoryBytes: 0, memoryLimit: nil, blockReadBytes: nil, blockWriteBytes: nil, pids: 0)
    }

    func isFrozen(_ path: CgroupPath) throws -> Bool {
        Issue.record("isFrozen must not be called")
        return false
    }

    func destroy(_ path: CgroupPath) throws {
        let fails = state.withLock { state in
            state.destroyed.append(path)
            return state.failing.contains(path)
        }
        if fails { throw RuntimeError(.systemError, "rmdir \(path)", errno: EBUSY) }
    }
}

/// Keeps what is logged, to check that a failed cleanup is reported.
final class LogRecorder: Sendable {
    private let messages = Mutex<[(level: Logger.Level, message: String)]>([])

    var logger: Logger { Logger(label: "test") { _ in Handler(recorder: self) } }
    var all: [(level: Logger.Level, message: String)] { messages.withLock { $0 } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.messages.withLock { $0.append((event.level, "\(event.message)")) }
        }
    }
}

/// berth's records of running containers: a lock held by the berth that runs each one, and the
/// cgroup to remove when that berth is gone.
@Suite("Runtime directory") struct RuntimeDirectoryTests {
    static let id = "3f" + String(repeating: "a", count: 62)

    /// A record as a killed berth leaves it: lock and cgroup files, nobody holding the lock.
    /// Backdates a record past the grace period a lock-less record gets.
    static func age(_ path: String) throws {
        let old = Date().addingTimeInterval(-120)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
    }

    static func leaveRecord(_ dir: TemporaryDirectory, id: String, cgroup: String?, lock: Bool = true) throws {
        if lock { try dir.write("containers/\(id)/lock", "") }
        if let cgroup { try dir.write("containers/\(id)/cgroup", cgroup + "\n") }
        if !lock && cgroup == nil {
            try FileManager.default.createDirectory(atPath: dir.path + "/containers/" + id,
                                                    withIntermediateDirectories: true)
        }
    }

    /// True when some open file description holds the lock (flock conflicts between two opens
    /// of the same file even within one process).
    static func isLocked(_ path: String) -> Bool {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return false }
        return errno == EWOULDBLOCK
    }

    @Suite("register and release") struct Register {
        @Test func registerCreatesTheRecordAndHoldsItsLock() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let runtime = RuntimeDirectory(path: dir.path + "/run")
            let lease = try runtime.register(id: RuntimeDirectoryTests.id, cgroup: CgroupPath("/berth//\(RuntimeDirectoryTests.id)/"))
            defer { lease.release() }

            let record = "run/containers/\(RuntimeDirectoryTests.id)"
            #expect(lease.directory == dir.path + "/" + record)
            #expect(dir.read(record + "/cgroup") == "berth/\(RuntimeDirectoryTests.id)\n")
            #expect(dir.read(record + "/lock") == "")
            var st = stat()
            #expect(stat(dir.path + "/" + record + "/lock", &st) == 0)
            #expect(st.st_mode & 0o777 == 0o600)
            #expect(RuntimeDirectoryTests.isLocked(dir.path + "/" + record + "/lock"))
            // Nothing else (no temporary file of the atomic write) is left in the record.
            #expect(try FileManager.default.contentsOfDirectory(atPath: lease.directory).sorted() == ["cgroup", "lock"])
        }

        @Test func secondRegisterOfTheSameIdConflictsWhileLocked() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let runtime = RuntimeDirectory(path: dir.path)
            let id = RuntimeDirectoryTests.id
            let lease = try runtime.register(id: id, cgroup: CgroupPath("berth/" + id))
            defer { lease.release() }

            let error = #expect(throws: RuntimeError.self) {
                try runtime.register(id: id, cgroup: CgroupPath("other/" + id))
            }
            #expect(error?.code == .conflict)
            #expect(error?.description
                == "container \(id) is already running (\(dir.path)/containers/\(id)/lock is locked)")
            // The first record is untouched and still locked.
            #expect(dir.read("containers/\(id)/cgroup") == "berth/\(id)\n")
            #expect(RuntimeDirectoryTests.isLocked(lease.directory + "/lock"))
        }

        @Test func releaseRemovesTheRecordAndTheIdCanBeRegisteredAgain() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let runtime = RuntimeDirectory(path: dir.path)
            let id = RuntimeDirectoryTests.id
            let lease = try runtime.register(id: id, cgroup: CgroupPath("berth/" + id))
            lease.release()
            #expect(!dir.exists("containers/\(id)"))
            lease.release()   // a second release is harmless
            #expect(!dir.exists("containers/\(id)"))

            let again = try runtime.register(id: id, cgroup: CgroupPath("berth/" + id))
            #expect(dir.exists("containers/\(id)/lock"))
            again.release()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/containers") == [])
        }

        /// A released record is kept for the next container: renamed to spares/N with its lock
        /// and its cgroup file (under its spare name), taken by the next registration with its
        /// lock held before it has its new name, its cgroup file rewritten and its recorded
        /// holder cleared. A spare whose lock someone holds is left to them.
        @Test func releasedRecordsAreReusedWithTheirLockHeld() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let runtime = RuntimeDirectory(path: dir.path)
            let first = try runtime.register(id: "first", cgroup: CgroupPath("berth/first"))
            try first.recordHolder(4_194_000)
            try dir.write("containers/first/hosts", "127.0.0.1 localhost\n")
            first.release()
            #expect(!dir.exists("containers/first"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/spares/0").sorted() == ["cgroup.spare", "lock"])
            #expect(!RuntimeDirectoryTests.isLocked(dir.path + "/spares/0/lock"))
            var before = stat()
            #expect(stat(dir.path + "/spares/0/lock", &before) == 0)

            let second = try runtime.register(id: "second", cgroup: CgroupPath("berth/second"))
            #expect(!dir.exists("spares/0"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: second.directory).sorted() == ["cgroup", "lock"])
            #expect(dir.read("containers/second/cgroup") == "berth/second\n")
            var after = stat()
            #expect(stat(second.directory + "/lock", &after) == 0 && after.st_ino == before.st_ino)
            #expect(RuntimeDirectoryTests.isLocked(second.directory + "/lock"))
            #expect(runtime.holder(of: "second") == getpid())
            #expect(runtime.isHeld(id: "second"))
            second.release()

            // Someone holds the spare's lock (another berth claiming it): a new record is made.
            let holder = open(dir.path + "/spares/0/lock", O_RDWR | O_CLOEXEC)
            #expect(holder >= 0 && flock(holder, LOCK_EX | LOCK_NB) == 0)
            let third = try runtime.register(id: "third", cgroup: CgroupPath("berth/third"))
            #expect(dir.exists("spares/0/lock"))
            #expect(dir.read("containers/third/cgroup") == "berth/third\n")
            close(holder)
            third.release()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/spares").sorted() == ["0", "1"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/containers").isEmpty)
        }

        @Test func aRecordedHolderIsTheHolderUntilTheLockIsTakenAgain() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let runtime = RuntimeDirectory(path: dir.path)
            let id = RuntimeDirectoryTests.id
            let lease = try runtime.register(id: id, cgroup: CgroupPath("berth/" + id))
            // Taken by this process: the kernel's lock table names it.
            #expect(runtime.holder(of: id) == getpid())
            try lease.recordHolder(4_194_000)
            #expect(runtime.holder(of: id) == 4_194_000)
            #expect(RuntimeDirectoryTests.isLocked(lease.directory + "/lock"))
            // The holder died without removing the record: the next one to take the lock is not it.
            lease.keepForRecovery()
            let again = try runtime.register(id: id, cgroup: CgroupPath("berth/" + id))
            #expect(runtime.holder(of: id) == getpid())
            again.release()
        }

        @Test func differentIdsDoNotConflict() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let runtime = RuntimeDirectory(path: dir.path)
            let a = try runtime.register(id: "a", cgroup: CgroupPath("berth/a"))
            let b = try runtime.register(id: "b", cgroup: CgroupPath("berth/b"))
            #expect(dir.read("containers/a/cgroup") == "berth/a\n")
            #expect(dir.read("containers/b/cgroup") == "berth/b\n")
            a.release()
            #expect(dir.exists("containers/b/lock"))
            b.release()
        }
    }

    @Suite("leftovers of crashed berth processes") struct Leftovers {
        @Test func lockedRecordsAreLeftAloneAndUnlockedOnesCleaned() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let runtime = RuntimeDirectory(path: dir.path)
            let live = try runtime.register(id: "live", cgroup: CgroupPath("berth/live"))
            defer { live.release() }
            try RuntimeDirectoryTests.leaveRecord(dir, id: "dead", cgroup: "berth/dead")
            let driver = RecordingCgroupDriver()
            let log = LogRecorder()

            let removed = runtime.removeLeftovers(cgroups: driver, logger: log.logger)
            #expect(removed == ["dead"])
            #expect(driver.destroyed == [CgroupPath("berth/dead")])
            #expect(!dir.exists("containers/dead"))
            #expect(dir.read("containers/live/cgroup") == "berth/live\n")
            #expect(RuntimeDirectoryTests.isLocked(live.directory + "/lock"))
            #expect(log.all.map(\.message) == ["removed the leftovers of a crashed container"])
        }

        @Test func everyUnlockedRecordIsCleanedWithItsRecordedPath() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            try RuntimeDirectoryTests.leaveRecord(dir, id: "one", cgroup: "custom/parent/one")
            try RuntimeDirectoryTests.leaveRecord(dir, id: "two", cgroup: "  berth//two/ ")
            let driver = RecordingCgroupDriver()

            let removed = RuntimeDirectory(path: dir.path).removeLeftovers(cgroups: driver, logger: LogRecorder().logger)
            #expect(Set(removed) == ["one", "two"])
            #expect(Set(driver.destroyed) == [CgroupPath("custom/parent/one"), CgroupPath("berth/two")])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/containers") == [])
        }

        @Test func recentRecordWithoutALockIsLeftToTheBerthCreatingIt() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            try RuntimeDirectoryTests.leaveRecord(dir, id: "young", cgroup: "berth/young", lock: false)
            let driver = RecordingCgroupDriver()
            let removed = RuntimeDirectory(path: dir.path).removeLeftovers(cgroups: driver, logger: LogRecorder().logger)
            #expect(removed.isEmpty)
            #expect(driver.destroyed.isEmpty)
            #expect(dir.exists("containers/young"))
        }

        @Test func oldRecordWithoutALockIsHalfMadeAndCleaned() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            try RuntimeDirectoryTests.leaveRecord(dir, id: "half", cgroup: "berth/half", lock: false)
            try RuntimeDirectoryTests.age(dir.path + "/containers/half")
            let driver = RecordingCgroupDriver()
            let removed = RuntimeDirectory(path: dir.path).removeLeftovers(cgroups: driver, logger: LogRecorder().logger)
            #expect(removed == ["half"])
            #expect(driver.destroyed == [CgroupPath("berth/half")])
            #expect(!dir.exists("containers/half"))
        }

        @Test func recordWithoutACgroupFileIsRemovedWithoutDestroying() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            try RuntimeDirectoryTests.leaveRecord(dir, id: "nocg", cgroup: nil)
            try RuntimeDirectoryTests.leaveRecord(dir, id: "empty", cgroup: nil, lock: false)
            try RuntimeDirectoryTests.age(dir.path + "/containers/empty")
            let driver = RecordingCgroupDriver()
            let removed = RuntimeDirectory(path: dir.path).removeLeftovers(cgroups: driver, logger: LogRecorder().logger)
            #expect(Set(removed) == ["nocg", "empty"])
            #expect(driver.destroyed.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/containers") == [])
        }

        @Test func recordWhoseDestroyFailsIsKeptForALaterRetry() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            try RuntimeDirectoryTests.leaveRecord(dir, id: "stuck", cgroup: "berth/stuck")
            try RuntimeDirectoryTests.leaveRecord(dir, id: "fine", cgroup: "berth/fine")
            let runtime = RuntimeDirectory(path: dir.path)
            let failing = RecordingCgroupDriver(failing: [CgroupPath("berth/stuck")])
            let log = LogRecorder()

            runtime.removeLeftovers(cgroups: failing, logger: log.logger)
            #expect(Set(failing.destroyed) == [CgroupPath("berth/stuck"), CgroupPath("berth/fine")])
            #expect(dir.read("containers/stuck/cgroup") == "berth/stuck\n")
            #expect(dir.exists("containers/stuck/lock"))
            #expect(!RuntimeDirectoryTests.isLocked(dir.path + "/containers/stuck/lock"))
            #expect(!dir.exists("containers/fine"))
            #expect(log.all.contains { $0.level == .warning && $0.message == "cannot remove a crashed container's cgroup" })

            // The next berth command tries again, and this time the cgroup goes.
            let working = RecordingCgroupDriver()
            let removed = runtime.removeLeftovers(cgroups: working, logger: log.logger)
            #expect(removed == ["stuck"])
            #expect(working.destroyed == [CgroupPath("berth/stuck")])
            #expect(!dir.exists("containers/stuck"))
        }

        @Test func noContainersDirectoryMeansNothingToDo() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let driver = RecordingCgroupDriver()
            let removed = RuntimeDirectory(path: dir.path + "/never-made").removeLeftovers(
                cgroups: driver, logger: LogRecorder().logger)
            #expect(removed.isEmpty)
            #expect(driver.destroyed.isEmpty)
            #expect(!dir.exists("never-made"))
        }

        @Test func aReleasedLeaseLeavesNothingToClean() throws {
            let dir = try TemporaryDirectory("berth-ut-run")
            let runtime = RuntimeDirectory(path: dir.path)
            try runtime.register(id: "gone", cgroup: CgroupPath("berth/gone")).release()
            let driver = RecordingCgroupDriver()
            #expect(runtime.removeLeftovers(cgroups: driver, logger: LogRecorder().logger).isEmpty)
            #expect(driver.destroyed.isEmpty)
        }
    }
}
