#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

extension CgroupTests {
    /// `berth update`'s writes and `berth top`'s read, on fake v1 and v2 trees.
    @Suite("update and processes (fixture)") struct UpdateFixture {
        let path = CgroupPath.container(id: "abc")
        let created = ResourceLimits(memoryBytes: 64 << 20, cpu: CPUBandwidth(cpus: 0.5), pidsLimit: 64)

        @Test func v2WritesTheNewLimitsAndLeavesTheOthers() throws {
            let fs = try FakeCgroupFS(.unified())
            try fs.v2Driver().create(path, limits: created).close()
            try fs.v2Driver().update(path, limits: ResourceLimits(cpu: CPUBandwidth(cpus: 1.5), pidsLimit: 10))
            #expect(fs.read("berth/abc/cpu.max") == "150000 100000")
            #expect(fs.read("berth/abc/pids.max") == "10")
            #expect(fs.read("berth/abc/memory.max") == "67108864")
            try fs.v2Driver().update(path, limits: ResourceLimits(memoryBytes: 128 << 20))
            #expect(fs.read("berth/abc/memory.max") == "134217728")
        }

        /// v2 would take the limit and OOM-kill: what the processes hold beyond the page cache is
        /// refused before the write.
        @Test func v2RefusesAMemoryLimitBelowWhatCannotBeReclaimed() throws {
            let fs = try FakeCgroupFS(.unified())
            try fs.v2Driver().create(path, limits: created).close()
            try fs.write("berth/abc/memory.current", String(100 << 20))
            try fs.write("berth/abc/memory.stat", "anon 58720256\nfile \(40 << 20)\nkernel 1024\n")
            try fs.v2Driver().update(path, limits: ResourceLimits(memoryBytes: 64 << 20))
            #expect(fs.read("berth/abc/memory.max") == String(64 << 20))
            let error = try #require(throws: RuntimeError.self) {
                try fs.v2Driver().update(path, limits: ResourceLimits(memoryBytes: 32 << 20))
            }
            #expect(error.code == .invalidState)
            #expect(error.message.contains("cannot lower the memory limit to 32 MiB"), "\(error)")
            #expect(fs.read("berth/abc/memory.max") == String(64 << 20), "the refused limit was written")
        }

        @Test func v1WritesEachHierarchy() throws {
            let fs = try FakeCgroupFS(.legacy())
            try fs.v1Driver().create(path, limits: created).close()
            try fs.v1Driver().update(path, limits: ResourceLimits(memoryBytes: 32 << 20, cpu: CPUBandwidth(cpus: 2), pidsLimit: 7))
            #expect(fs.read("memory/berth/abc/memory.limit_in_bytes") == String(32 << 20))
            #expect(fs.read("cpu/berth/abc/cpu.cfs_quota_us") == "200000")
            #expect(fs.read("pids/berth/abc/pids.max") == "7")
        }

        @Test(arguments: [true, false])
        func aMissingCgroupIsNotFound(unified: Bool) throws {
            let fs = try FakeCgroupFS(unified ? .unified() : .legacy())
            let driver: any CgroupDriver = unified ? fs.v2Driver() : fs.v1Driver()
            let update = try #require(throws: RuntimeError.self) { try driver.update(path, limits: ResourceLimits(pidsLimit: 5)) }
            #expect(update.code == .notFound)
            let list = try #require(throws: RuntimeError.self) { try driver.processes(in: path) }
            #expect(list.code == .notFound)
        }

        @Test(arguments: [true, false])
        func processesAreTheCgroupsProcs(unified: Bool) throws {
            let fs = try FakeCgroupFS(unified ? .unified() : .legacy())
            let driver: any CgroupDriver = unified ? fs.v2Driver() : fs.v1Driver()
            try driver.create(path, limits: ResourceLimits()).close()
            try fs.write(unified ? "berth/abc/cgroup.procs" : "memory/berth/abc/cgroup.procs", "12\n345\n")
            #expect(try driver.processes(in: path) == [12, 345])
        }
    }

    /// `berth info`'s cgroup facts: which controllers berth can use, and why not.
    @Suite("facts (fixture)") struct FactsFixture {
        @Test func v2ListsWhatTheRootOffersAndExplainsTheRest() throws {
            let fs = try FakeCgroupFS(.unified(controllers: "cpu io memory"))
            try fs.makeCgroup(relative: "user")
            try fs.write("user/cgroup.freeze", "0")
            let facts = CgroupFacts.gather(root: fs.root, procCgroups: "", ownCgroup: "/user")
            #expect(facts.layout == .v2)
            let byName = Dictionary(uniqueKeysWithValues: facts.controllers.map { ($0.name, $0) })
            #expect(byName["memory"]?.isAvailable == true && byName["cpu"]?.isAvailable == true)
            #expect(byName["pids"]?.missing?.contains("cgroup.controllers (it lists cpu io memory)") == true,
                    "\(byName["pids"]?.missing ?? "-")")
            #expect(byName["freezer"]?.note == "cgroup.freeze")
            #expect(byName["devices"]?.isAvailable == true)

            let old = CgroupFacts.gather(root: fs.root, procCgroups: "", ownCgroup: "/elsewhere")
            #expect(old.controllers.first { $0.name == "freezer" }?.missing?.contains("Linux 5.2") == true)
        }

        @Test func v1TellsNotMountedFromDisabledFromAbsent() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu,cpuacct"]))
            let table = """
                #subsys_name\thierarchy\tnum_cgroups\tenabled
                cpu\t3\t1\t1
                memory\t4\t1\t1
                pids\t5\t1\t1
                freezer\t0\t1\t0
                """
            let facts = CgroupFacts.gather(root: fs.root, procCgroups: table)
            #expect(facts.layout == .v1)
            let byName = Dictionary(uniqueKeysWithValues: facts.controllers.map { ($0.name, $0) })
            #expect(byName["memory"]?.isAvailable == true)
            #expect(byName["cpu"]?.isAvailable == true, "cpu co-mounted with cpuacct is the cpu hierarchy")
            #expect(byName["pids"]?.missing == "no cgroup v1 hierarchy is mounted at \(fs.root)/pids")
            #expect(byName["freezer"]?.missing == "disabled on the kernel command line (cgroup_disable=freezer)")
            #expect(byName["devices"]?.missing == "not built into this kernel (/proc/cgroups does not list it)")
        }

        @Test func aCgroup2MountBesideV1HierarchiesIsHybrid() throws {
            let fs = try FakeCgroupFS(.legacy())
            #expect(mkdir(fs.root + "/unified", 0o755) == 0)
            try fs.write("unified/cgroup.controllers", "")
            #expect(CgroupFacts.gather(root: fs.root, procCgroups: "").layout == .hybrid)
        }
    }
}
