#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

extension CgroupTests {
    /// The v1 driver against fake v1 hierarchies.
    @Suite("v1 driver (fixture)") struct V1DriverFixture {
        let path = CgroupPath.container(id: "abc")
        let allLimits = ResourceLimits(memoryBytes: 64 << 20, cpu: CPUBandwidth(cpus: 0.5), pidsLimit: 64)

        @Test func createWritesEachLimitInItsHierarchy() throws {
            let fs = try FakeCgroupFS(.legacy())
            let placement = try fs.v1Driver().create(path, limits: allLimits)
            #expect(placement.directoryFD == nil)
            #expect(fs.read("memory/berth/abc/memory.limit_in_bytes") == "67108864")
            #expect(fs.read("memory/berth/abc/memory.memsw.limit_in_bytes") == "67108864")
            #expect(fs.read("cpu/berth/abc/cpu.cfs_period_us") == "100000")
            #expect(fs.read("cpu/berth/abc/cpu.cfs_quota_us") == "50000")
            #expect(fs.read("pids/berth/abc/pids.max") == "64")
        }

        /// The child joins by writing 0 to each hierarchy's `tasks` (no RCU grace period): one fd
        /// per hierarchy, each the leaf's tasks file, for a new cgroup and for an exec's.
        @Test func theChildGetsEachHierarchysTasksFile() throws {
            let fs = try FakeCgroupFS(.legacy())
            let driver = fs.v1Driver()
            for placement in [try driver.create(path, limits: allLimits), try driver.placement(joining: path)] {
                defer { placement.close() }
                #expect(placement.taskFiles.count == 3)
                for (fd, hierarchy) in zip(placement.taskFiles, ["memory", "cpu", "pids"]) {
                    #expect(write(fd, "0", 1) == 1)
                    #expect(fs.read(hierarchy + "/berth/abc/tasks") == "0")
                    try fs.write(hierarchy + "/berth/abc/tasks", "")
                }
            }
            try driver.destroy(path)
            let error = try #require(throws: RuntimeError.self) { try driver.placement(joining: path) }
            #expect(error.code == .notFound)
        }

        @Test func withoutLimitsTheCgroupIsStillMadeEverywhere() throws {
            let fs = try FakeCgroupFS(.legacy())
            _ = try fs.v1Driver().create(path, limits: ResourceLimits())
            for hierarchy in ["memory", "cpu", "pids"] {
                #expect(fs.exists(hierarchy + "/berth/abc"))
            }
            #expect(fs.read("memory/berth/abc/memory.limit_in_bytes") == "")
            #expect(fs.read("pids/berth/abc/pids.max") == "")
        }

        @Test(arguments: [["cpu,cpuacct"], ["cpuacct,cpu"]])
        func coMountedCPUIsFound(cpuHierarchy: [String]) throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory"] + cpuHierarchy + ["pids"]))
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: allLimits)
            #expect(fs.read(cpuHierarchy[0] + "/berth/abc/cpu.cfs_quota_us") == "50000")
            try driver.attach(pid: 77, to: path)
            #expect(fs.read(cpuHierarchy[0] + "/berth/abc/cgroup.procs") == "77")
            try driver.destroy(path)
            #expect(!fs.exists(cpuHierarchy[0] + "/berth/abc"))
        }

        @Test func coMountedCPUWithASymlinkIsUsedThroughIt() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu,cpuacct", "pids"]))
            #expect(symlink("cpu,cpuacct", fs.root + "/cpu") == 0)
            _ = try fs.v1Driver().create(path, limits: allLimits)
            #expect(fs.read("cpu,cpuacct/berth/abc/cpu.cfs_quota_us") == "50000")
        }

        @Test func aMissingHierarchyForARequestedLimitIsUnsupportedAndUndone() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu"]))
            let error = try #require(throws: RuntimeError.self) {
                try fs.v1Driver().create(path, limits: allLimits)
            }
            #expect(error.code == .unsupported)
            #expect(error.description == "cannot set pids limit: no cgroup v1 pids hierarchy is mounted at \(fs.root)/pids; "
                + "mount one there or run without a pids limit")
            #expect(!fs.exists("memory/berth/abc"))
            #expect(!fs.exists("cpu/berth/abc"))
            #expect(fs.exists("memory/berth"), "the shared parent stays")
            #expect(!fs.exists("pids"), "the hierarchy itself is never made")
        }

        @Test func aMissingHierarchyNoLimitNeedsIsSkipped() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu"]))
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: ResourceLimits(memoryBytes: 1 << 20, cpu: CPUBandwidth(cpus: 1)))
            #expect(fs.read("memory/berth/abc/memory.limit_in_bytes") == "1048576")
            try driver.attach(pid: 55, to: path)
            #expect(fs.read("memory/berth/abc/cgroup.procs") == "55")
            try driver.destroy(path)
            #expect(!fs.exists("memory/berth/abc"))
        }

        @Test func noSwapAccountingStillAppliesTheMemoryLimit() throws {
            let fs = try FakeCgroupFS(.legacy(), omitting: ["memory.memsw.limit_in_bytes"])
            _ = try fs.v1Driver().create(path, limits: allLimits)
            #expect(fs.read("memory/berth/abc/memory.limit_in_bytes") == "67108864")
            #expect(!fs.exists("memory/berth/abc/memory.memsw.limit_in_bytes"))
        }

        @Test func aMissingLimitFileIsUnsupportedAndEveryLeafIsRemoved() throws {
            let fs = try FakeCgroupFS(.legacy(), omitting: ["cpu.cfs_quota_us"])
            let error = try #require(throws: RuntimeError.self) {
                try fs.v1Driver().create(path, limits: allLimits)
            }
            #expect(error.code == .unsupported)
            #expect(error.description == "cannot set CPU limit: \(fs.root)/cpu/berth/abc/cpu.cfs_quota_us does not exist, "
                + "so this kernel's cpu controller cannot apply it; run without a CPU limit")
            #expect(!fs.exists("memory/berth/abc"))
            #expect(!fs.exists("cpu/berth/abc"))
            #expect(!fs.exists("pids/berth/abc"))
        }

        @Test func aRefusedWriteNamesTheFileAndValue() throws {
            let fs = try FakeCgroupFS(.legacy(), unwritable: ["memory.limit_in_bytes"])
            let error = try #require(throws: RuntimeError.self) {
                try fs.v1Driver().create(path, limits: allLimits)
            }
            #expect(error.code == .systemError)
            #expect(error.description == "cannot set memory limit: write 67108864 to "
                + "\(fs.root)/memory/berth/abc/memory.limit_in_bytes: is a directory")
            #expect(!fs.exists("memory/berth/abc"))
        }

        @Test func attachWritesThePidInEveryHierarchy() throws {
            let fs = try FakeCgroupFS(.legacy())
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: ResourceLimits())
            try driver.attach(pid: 4242, to: path)
            for hierarchy in ["memory", "cpu", "pids"] {
                #expect(fs.read(hierarchy + "/berth/abc/cgroup.procs") == "4242")
            }
            let error = try #require(throws: RuntimeError.self) { try driver.attach(pid: 1, to: CgroupPath("berth/gone")) }
            #expect(error.code == .notFound)
        }

        @Test func eventsReadOOMKillsFromOOMControl() throws {
            let fs = try FakeCgroupFS(.legacy())
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: allLimits)
            try fs.write("memory/berth/abc/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
            #expect(try driver.events(of: path) == CgroupEvents(oomKills: 3))
            #expect(throws: RuntimeError.self) { try driver.events(of: CgroupPath("berth/gone")) }
        }

        @Test func destroyKillsWhatRunsAndRemovesEveryLeaf() throws {
            let fs = try FakeCgroupFS(.legacy())
            let driver = fs.v1Driver()
            _ = try driver.create(path, limits: allLimits)
            for hierarchy in ["memory", "cpu", "pids"] {
                try fs.write(hierarchy + "/berth/abc/cgroup.procs", "201\n202\n")
            }
            try driver.destroy(path)
            #expect(fs.killed.prefix(2) == [201, 202])
            for hierarchy in ["memory", "cpu", "pids"] {
                #expect(!fs.exists(hierarchy + "/berth/abc"))
                #expect(fs.exists(hierarchy + "/berth"))
            }
            try driver.destroy(path)
        }
    }
}
