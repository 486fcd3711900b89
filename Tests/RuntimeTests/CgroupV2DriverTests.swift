#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

extension CgroupTests {
    /// The v2 driver against a fake cgroup2 tree: which files it writes, in which cgroups.
    @Suite("v2 driver (fixture)") struct V2DriverFixture {
        let path = CgroupPath.container(id: "abc")
        let allLimits = ResourceLimits(memoryBytes: 64 << 20, cpu: CPUBandwidth(cpus: 0.5), pidsLimit: 64)

        /// An exec's process is cloned into the container's cgroup as the container's was.
        @Test func anExecJoinsThroughTheCgroupsDirectory() throws {
            let fs = try FakeCgroupFS(.unified())
            let driver = fs.v2Driver()
            try driver.create(path, limits: ResourceLimits()).close()
            let placement = try driver.placement(joining: path)
            defer { placement.close() }
            let fd = try #require(placement.directoryFD)
            var status = stat()
            #expect(fstat(fd, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR)
            #expect(placement.taskFiles.isEmpty)
            try driver.destroy(path)
            let error = try #require(throws: RuntimeError.self) { try driver.placement(joining: path) }
            #expect(error.code == .notFound)
        }

        @Test func createDelegatesControllersAndWritesLimits() throws {
            let fs = try FakeCgroupFS(.unified())
            let placement = try fs.v2Driver().create(path, limits: allLimits)
            let fd = try #require(placement.directoryFD)
            defer { close(fd) }

            #expect(fs.read("cgroup.subtree_control") == "+memory +cpu +pids")
            #expect(fs.read("berth/cgroup.subtree_control") == "+memory +cpu +pids")
            #expect(fs.read("berth/abc/memory.max") == "67108864")
            #expect(fs.read("berth/abc/memory.swap.max") == "0")
            #expect(fs.read("berth/abc/cpu.max") == "50000 100000")
            #expect(fs.read("berth/abc/pids.max") == "64")
            // The leaf holds the process, so it never delegates.
            #expect(fs.read("berth/abc/cgroup.subtree_control") == "")

            var status = stat()
            #expect(fstat(fd, &status) == 0)
            #expect(status.st_mode & S_IFMT == S_IFDIR)
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        }

        @Test(arguments: [
            (ResourceLimits(), "+memory +pids"),
            (ResourceLimits(memoryBytes: 1 << 20), "+memory +pids"),
            (ResourceLimits(cpu: CPUBandwidth(cpus: 2)), "+memory +cpu +pids"),
            (ResourceLimits(pidsLimit: 10), "+memory +pids"),
        ])
        func cpuIsDelegatedOnlyForACPULimit(limits: ResourceLimits, delegated: String) throws {
            let fs = try FakeCgroupFS(.unified())
            let placement = try fs.v2Driver().create(path, limits: limits)
            placement.directoryFD.map { _ = close($0) }
            #expect(fs.read("cgroup.subtree_control") == delegated)
            #expect(fs.read("berth/cgroup.subtree_control") == delegated)
            #expect(fs.exists("berth/abc"))
        }

        @Test func enabledControllersAreNotWrittenAgain() throws {
            let fs = try FakeCgroupFS(.unified())
            try fs.write("cgroup.subtree_control", "cpu memory pids\n")  // as the kernel prints it
            let placement = try fs.v2Driver().create(path, limits: ResourceLimits(cpu: CPUBandwidth(cpus: 1)))
            placement.directoryFD.map { _ = close($0) }
            #expect(fs.read("cgroup.subtree_control") == "cpu memory pids\n")
            #expect(fs.read("berth/cgroup.subtree_control") == "+memory +cpu +pids")
        }

        @Test func deeperPathsDelegateAtEveryLevel() throws {
            let fs = try FakeCgroupFS(.unified())
            let placement = try fs.v2Driver().create(CgroupPath("a/b/c"), limits: ResourceLimits(pidsLimit: 5))
            placement.directoryFD.map { _ = close($0) }
            for level in ["", "a/", "a/b/"] {
                #expect(fs.read(level + "cgroup.subtree_control") == "+memory +pids")
            }
            #expect(fs.read("a/b/c/pids.max") == "5")
        }

        @Test func aMissingControllerForARequestedLimitIsUnsupported() throws {
            let fs = try FakeCgroupFS(.unified(controllers: "cpu io memory"))
            let error = try #require(throws: RuntimeError.self) {
                try fs.v2Driver().create(path, limits: ResourceLimits(pidsLimit: 64))
            }
            #expect(error.code == .unsupported)
            #expect(error.description == "cannot set pids limit: the pids cgroup controller is not available "
                + "(\(fs.root)/cgroup.controllers lists: cpu io memory); enable it in the kernel "
                + "(it may be disabled on the kernel command line) or run without a pids limit")
            #expect(!fs.exists("berth"), "nothing is created before the check")
        }

        @Test func aMissingControllerNoLimitNeedsIsNotAnError() throws {
            let fs = try FakeCgroupFS(.unified(controllers: "cpu io memory"))
            let placement = try fs.v2Driver().create(path, limits: ResourceLimits(memoryBytes: 1 << 20))
            placement.directoryFD.map { _ = close($0) }
            #expect(fs.read("cgroup.subtree_control") == "+memory")
            #expect(fs.read("berth/abc/memory.max") == "1048576")
        }

        @Test func noSwapAccountingStillAppliesTheMemoryLimit() throws {
            let fs = try FakeCgroupFS(.unified(), omitting: ["memory.swap.max"])
            let placement = try fs.v2Driver().create(path, limits: allLimits)
            placement.directoryFD.map { _ = close($0) }
            #expect(fs.read("berth/abc/memory.max") == "67108864")
            #expect(!fs.exists("berth/abc/memory.swap.max"), "no file appears: control files are never created")
        }

        @Test func aMissingLimitFileIsUnsupportedAndTheLeafIsRemoved() throws {
            let fs = try FakeCgroupFS(.unified(), omitting: ["pids.max"])
            let error = try #require(throws: RuntimeError.self) {
                try fs.v2Driver().create(path, limits: allLimits)
            }
            #expect(error.code == .unsupported)
            #expect(error.description == "cannot set pids limit: \(fs.root)/berth/abc/pids.max does not exist, "
                + "so this kernel's pids controller cannot apply it; run without a pids limit")
            #expect(!fs.exists("berth/abc"))
            #expect(!fs.exists("berth/abc/pids.max"))
            #expect(fs.exists("berth"), "the shared parent stays")
        }

        @Test func aRefusedWriteNamesTheFileAndValue() throws {
            let fs = try FakeCgroupFS(.unified(), unwritable: ["cpu.max"])
            let error = try #require(throws: RuntimeError.self) {
                try fs.v2Driver().create(path, limits: allLimits)
            }
            #expect(error.code == .systemError)
            #expect(error.errno == EISDIR)
            #expect(error.description == "cannot set CPU limit: write 50000 100000 to \(fs.root)/berth/abc/cpu.max: is a directory")
            #expect(!fs.exists("berth/abc"))
        }

        @Test func anExistingLeafIsReusedAndKeptOnFailure() throws {
            let fs = try FakeCgroupFS(.unified(), omitting: ["pids.max"])
            try fs.write("cgroup.subtree_control", "+memory +cpu +pids")
            try fs.makeCgroup(relative: "berth")
            try fs.write("berth/cgroup.subtree_control", "+memory +cpu +pids")
            try fs.makeCgroup(relative: "berth/abc")
            #expect(throws: RuntimeError.self) { try fs.v2Driver().create(path, limits: allLimits) }
            #expect(fs.exists("berth/abc"), "a leaf this call did not make is left to crash recovery")
        }

        @Test func attachWritesThePid() throws {
            let fs = try FakeCgroupFS(.unified())
            let driver = fs.v2Driver()
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try driver.attach(pid: 4242, to: path)
            #expect(fs.read("berth/abc/cgroup.procs") == "4242")
        }

        @Test func attachToAMissingCgroupIsNotFound() throws {
            let fs = try FakeCgroupFS(.unified())
            let error = try #require(throws: RuntimeError.self) { try fs.v2Driver().attach(pid: 4242, to: path) }
            #expect(error.code == .notFound)
            #expect(error.description == "cannot move process 4242 into cgroup /berth/abc: it does not exist")
        }

        @Test func eventsReadOOMKills() throws {
            let fs = try FakeCgroupFS(.unified())
            let driver = fs.v2Driver()
            try driver.create(path, limits: allLimits).directoryFD.map { _ = close($0) }
            try fs.write("berth/abc/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n")
            #expect(try driver.events(of: path) == CgroupEvents(oomKills: 2))
        }

        @Test func eventsWithoutTheMemoryControllerAreEmpty() throws {
            let fs = try FakeCgroupFS(.unified(controllers: "cpu pids"))
            let driver = fs.v2Driver()
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            #expect(try driver.events(of: path) == CgroupEvents(oomKills: 0))
            let error = try #require(throws: RuntimeError.self) { try driver.events(of: CgroupPath("berth/gone")) }
            #expect(error.code == .notFound)
        }
    }

    /// v2 destroy: kill, bounded retry, children, idempotence.
    @Suite("v2 destroy (fixture)") struct V2DestroyFixture {
        let path = CgroupPath.container(id: "abc")

        private func populated(_ fs: FakeCgroupFS) throws -> CgroupV2Driver {
            let driver = fs.v2Driver()
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try fs.write("berth/abc/cgroup.procs", "101\n102\n")
            return driver
        }

        @Test func anEmptyCgroupIsRemovedAndTheParentKept() throws {
            let fs = try FakeCgroupFS(.unified())
            let driver = fs.v2Driver()
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            try driver.destroy(path)
            #expect(!fs.exists("berth/abc"))
            #expect(fs.exists("berth"))
            #expect(fs.read("cgroup.subtree_control") == "+memory +pids")
            #expect(fs.killed.isEmpty)
        }

        @Test func cgroupKillIsUsedWhenTheKernelHasIt() throws {
            let fs = try FakeCgroupFS(.unified())
            try populated(fs).destroy(path)
            #expect(!fs.exists("berth/abc"))
            #expect(fs.killed.isEmpty, "cgroup.kill, not pid by pid")
        }

        @Test func withoutCgroupKillEveryPidIsKilled() throws {
            let fs = try FakeCgroupFS(.unified(), omitting: ["cgroup.kill"])
            try populated(fs).destroy(path)
            #expect(!fs.exists("berth/abc"))
            #expect(fs.killed.prefix(2) == [101, 102])
        }

        @Test func childCgroupsAreRemovedFirst() throws {
            let fs = try FakeCgroupFS(.unified(), omitting: ["cgroup.kill"])
            let driver = try populated(fs)
            try fs.makeCgroup(relative: "berth/abc/nested")
            try fs.write("berth/abc/nested/cgroup.procs", "103\n")
            try driver.destroy(path)
            #expect(!fs.exists("berth/abc"))
            #expect(Set(fs.killed) == [101, 102, 103])
        }

        @Test func processesThatNeverLeaveFailAfterTheTimeout() throws {
            let fs = try FakeCgroupFS(.unified(), immortal: true)
            let driver = try populated(fs)
            let started = ContinuousClock.now
            let error = try #require(throws: RuntimeError.self) { try driver.destroy(path) }
            #expect(ContinuousClock.now - started < .seconds(1))
            #expect(error.errno == EBUSY)
            #expect(error.description == "cannot remove cgroup \(fs.root)/berth/abc: processes still inside after 100 ms: "
                + "device or resource busy")
            #expect(fs.exists("berth/abc"))
        }

        @Test func destroyingTwiceOrAMissingCgroupSucceeds() throws {
            let fs = try FakeCgroupFS(.unified())
            let driver = try populated(fs)
            try driver.destroy(path)
            try driver.destroy(path)
            try driver.destroy(CgroupPath("never/made"))
        }
    }
}
