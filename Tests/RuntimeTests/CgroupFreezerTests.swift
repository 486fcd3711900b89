#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

extension CgroupTests {
    /// Pause's freezer on both drivers, against fixtures: which file is written, what is read
    /// back, and the errors of a host or a cgroup without one.
    @Suite("freezer (fixture)") struct FreezerFixture {
        let path = CgroupPath.container(id: "abc")
        static let withFreezer = FakeCgroupFS.Layout.legacy(hierarchies: ["memory", "cpu", "pids", "freezer"])

        @Test func v1MakesAndJoinsTheFreezerCgroupLikeTheOthers() throws {
            let fs = try FakeCgroupFS(Self.withFreezer)
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: ResourceLimits())
            #expect(fs.read("freezer/berth/abc/freezer.state") == "THAWED\n")
            try driver.attach(pid: 42, to: path)
            #expect(fs.read("freezer/berth/abc/cgroup.procs") == "42")
            try fs.write("freezer/berth/abc/cgroup.procs", "")
            try fs.write("memory/berth/abc/cgroup.procs", "")
            try fs.write("cpu/berth/abc/cgroup.procs", "")
            try fs.write("pids/berth/abc/cgroup.procs", "")
            try driver.destroy(path)
            #expect(!fs.exists("freezer/berth/abc"))
        }

        @Test func v1FreezeAndThawWriteTheState() throws {
            let fs = try FakeCgroupFS(Self.withFreezer)
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: ResourceLimits())
            #expect(try !driver.isFrozen(path))
            try driver.freeze(path)
            #expect(fs.read("freezer/berth/abc/freezer.state") == "FROZEN")
            #expect(try driver.isFrozen(path))
            try driver.thaw(path)
            #expect(fs.read("freezer/berth/abc/freezer.state") == "THAWED")
            #expect(try !driver.isFrozen(path))
        }

        @Test func v1StillFreezingCountsAsFrozen() throws {
            let fs = try FakeCgroupFS(Self.withFreezer)
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: ResourceLimits())
            try fs.write("freezer/berth/abc/freezer.state", "FREEZING\n")
            #expect(try driver.isFrozen(path))
        }

        @Test func v1WithoutAFreezerHierarchyPauseIsUnsupported() throws {
            let fs = try FakeCgroupFS(.legacy())
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: ResourceLimits())
            let error = try #require(throws: RuntimeError.self) { try driver.freeze(path) }
            #expect(error.code == .unsupported)
            #expect(error.description == "cannot freeze cgroup /berth/abc: no cgroup v1 freezer hierarchy is mounted at "
                + "\(fs.root)/freezer; mount one there to pause containers")
        }

        @Test func v1AMissingCgroupIsNotFound() throws {
            let fs = try FakeCgroupFS(Self.withFreezer)
            let error = try #require(throws: RuntimeError.self) { try fs.v1Driver().thaw(path) }
            #expect(error.code == .notFound)
            #expect(error.description == "cannot thaw cgroup /berth/abc: it does not exist")
        }

        /// A v1 task acts on SIGKILL only once thawed: destroy thaws before it kills.
        @Test func v1DestroyThawsAFrozenCgroupBeforeKilling() throws {
            let fs = try FakeCgroupFS(Self.withFreezer, immortal: true)
            let driver = CgroupV1Driver(root: fs.root, syscalls: fs.syscalls, removalTimeout: .milliseconds(20))
            _ = try driver.create(path, limits: ResourceLimits())
            try fs.write("memory/berth/abc/cgroup.procs", "101\n")
            try driver.freeze(path)
            #expect(throws: RuntimeError.self) { try driver.destroy(path) }
            #expect(fs.read("freezer/berth/abc/freezer.state") == "THAWED")
            #expect(fs.killed.first == 101)
        }

        /// A process throttled to 1 ms a second takes seconds to unwind its exit: the quota goes
        /// before the kill, in destroy and for a launch the launcher abandons.
        @Test func v1DestroyAndReleaseHoldsLiftTheCPUQuota() throws {
            let fs = try FakeCgroupFS(Self.withFreezer, immortal: true)
            let driver = CgroupV1Driver(root: fs.root, syscalls: fs.syscalls, removalTimeout: .milliseconds(20))
            let throttled = ResourceLimits(cpu: CPUBandwidth(quotaMicros: 1000, periodMicros: 1_000_000))
            _ = try driver.create(path, limits: throttled)
            #expect(fs.read("cpu/berth/abc/cpu.cfs_quota_us") == "1000")
            driver.releaseHolds(on: path)
            #expect(fs.read("cpu/berth/abc/cpu.cfs_quota_us") == "-1")
            try fs.write("cpu/berth/abc/cpu.cfs_quota_us", "1000")
            try driver.freeze(path)
            try fs.write("memory/berth/abc/cgroup.procs", "101\n")
            #expect(throws: RuntimeError.self) { try driver.destroy(path) }
            #expect(fs.read("cpu/berth/abc/cpu.cfs_quota_us") == "-1")
            #expect(fs.read("freezer/berth/abc/freezer.state") == "THAWED")
        }

        @Test func v2DestroyAndReleaseHoldsLiftTheCPUQuota() throws {
            let fs = try FakeCgroupFS(.unified(), immortal: true)
            let driver = CgroupV2Driver(root: fs.root, syscalls: fs.syscalls, removalTimeout: .milliseconds(20))
            let throttled = ResourceLimits(cpu: CPUBandwidth(quotaMicros: 1000, periodMicros: 1_000_000))
            try driver.create(path, limits: throttled).directoryFD.map { _ = close($0) }
            #expect(fs.read("berth/abc/cpu.max") == "1000 1000000")
            driver.releaseHolds(on: path)
            #expect(fs.read("berth/abc/cpu.max") == "max")
            try fs.write("berth/abc/cpu.max", "1000 1000000")
            try fs.write("berth/abc/cgroup.procs", "101\n")
            #expect(throws: RuntimeError.self) { try driver.destroy(path) }
            #expect(fs.read("berth/abc/cpu.max") == "max")
        }

        @Test func v2FreezeWaitsForTheKernelsFrozenEvent() throws {
            let fs = try FakeCgroupFS(.unified())
            let driver = fs.v2Driver()
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            #expect(try !driver.isFrozen(path))
            try fs.write("berth/abc/cgroup.events", "populated 1\nfrozen 1\n")
            try driver.freeze(path)
            #expect(fs.read("berth/abc/cgroup.freeze") == "1")
            #expect(try driver.isFrozen(path))
            try driver.thaw(path)
            #expect(fs.read("berth/abc/cgroup.freeze") == "0")
            #expect(try !driver.isFrozen(path))
        }

        @Test func v2AFreezeTheKernelNeverReportsIsUndone() throws {
            let fs = try FakeCgroupFS(.unified())
            let driver = CgroupV2Driver(root: fs.root, syscalls: fs.syscalls, removalTimeout: .milliseconds(100),
                                        freezeTimeout: .milliseconds(50))
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try fs.write("berth/abc/cgroup.events", "populated 1\nfrozen 0\n")
            let started = ContinuousClock.now
            let error = try #require(throws: RuntimeError.self) { try driver.freeze(path) }
            #expect(ContinuousClock.now - started < .seconds(1))
            #expect(error.description == "cannot pause cgroup /berth/abc: its processes did not all freeze within 50 ms "
                + "(one may be in an uninterruptible sleep); they were thawed again: device or resource busy")
            #expect(fs.read("berth/abc/cgroup.freeze") == "0")
        }

        @Test func v2WithoutCgroupFreezePauseIsUnsupported() throws {
            let fs = try FakeCgroupFS(.unified(), omitting: ["cgroup.freeze"])
            let driver = fs.v2Driver()
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            let error = try #require(throws: RuntimeError.self) { try driver.freeze(path) }
            #expect(error.code == .unsupported)
            #expect(error.description.hasSuffix("cgroup.freeze does not exist; pausing containers on cgroup v2 needs Linux 5.2 or later"))
        }

        @Test func v2AMissingCgroupIsNotFound() throws {
            let fs = try FakeCgroupFS(.unified())
            let error = try #require(throws: RuntimeError.self) { try fs.v2Driver().isFrozen(path) }
            #expect(error.code == .notFound)
            #expect(error.description == "cannot read the freezer state of cgroup /berth/abc: it does not exist")
        }
    }
}
