#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

extension CgroupTests {
    /// The cpuset and the memory reservation and swappiness (the OCI spec's cpu.cpus/mems,
    /// memory.reservation and memory.swappiness), against fake hierarchies.
    @Suite("cpuset and memory protection (fixture)") struct CpusetFixture {
        let path = CgroupPath("berth-oci/deep/abc")

        @Test func v1CopiesTheParentsListsDownBeforeTheLeafGetsItsOwn() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu", "pids", "cpuset"]))
            try fs.write("cpuset/cpuset.cpus", "0-3\n")
            try fs.write("cpuset/cpuset.mems", "0\n")
            let driver = fs.v1Driver()
            let placement = try driver.create(path, limits: ResourceLimits(cpuset: CPUSet(cpus: "1-2")))
            defer { placement.close() }
            #expect(fs.read("cpuset/berth-oci/cpuset.cpus") == "0-3")
            #expect(fs.read("cpuset/berth-oci/deep/cpuset.mems") == "0")
            #expect(fs.read("cpuset/berth-oci/deep/abc/cpuset.cpus") == "1-2")
            #expect(fs.read("cpuset/berth-oci/deep/abc/cpuset.mems") == "0")
            // The child joins the cpuset cgroup too, and so does an exec.
            #expect(placement.taskFiles.count == 4)
            let joining = try driver.placement(joining: path)
            defer { joining.close() }
            #expect(joining.taskFiles.count == 4)
            try driver.destroy(path)
            #expect(!fs.exists("cpuset/berth-oci"))
        }

        @Test func v1LeavesCpusetAloneUnlessAsked() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu", "pids", "cpuset"]))
            let driver = fs.v1Driver()
            let placement = try driver.create(path, limits: ResourceLimits(memoryBytes: 1 << 20))
            defer { placement.close() }
            #expect(!fs.exists("cpuset/berth-oci"))
            #expect(placement.taskFiles.count == 3)
            try driver.attach(pid: 7, to: path)
            try driver.destroy(path)
        }

        @Test func v1WithoutACpusetHierarchyRefusesAndLeavesNothing() throws {
            let fs = try FakeCgroupFS(.legacy())
            let error = try #require(throws: RuntimeError.self) {
                try fs.v1Driver().create(path, limits: ResourceLimits(cpuset: CPUSet(mems: "0")))
            }
            #expect(error.code == .unsupported && error.message.contains("no cgroup v1 cpuset hierarchy"))
            #expect(!fs.exists("memory/berth-oci/deep/abc"))
        }

        @Test func v1WritesTheSoftLimitAndSwappiness() throws {
            let fs = try FakeCgroupFS(.legacy())
            let placement = try fs.v1Driver().create(path, limits: ResourceLimits(memoryReservationBytes: 32 << 20,
                                                                                  memorySwappiness: 10))
            placement.close()
            #expect(fs.read("memory/berth-oci/deep/abc/memory.soft_limit_in_bytes") == "\(32 << 20)")
            #expect(fs.read("memory/berth-oci/deep/abc/memory.swappiness") == "10")
            #expect(fs.read("memory/berth-oci/deep/abc/memory.limit_in_bytes") == "")
        }

        @Test func v2EnablesCpusetOnlyWhenAskedAndWritesMemoryLow() throws {
            let fs = try FakeCgroupFS(.unified())
            let driver = fs.v2Driver()
            let plain = try driver.create(CgroupPath("berth/plain"), limits: ResourceLimits(memoryBytes: 1 << 20))
            #expect(plain.directoryFD != nil)
            plain.close()
            #expect(fs.read("cgroup.subtree_control")?.contains("cpuset") == false)
            let placement = try driver.create(path, limits: ResourceLimits(memoryReservationBytes: 4096, memorySwappiness: 60,
                                                                           cpuset: CPUSet(cpus: "0", mems: "0")))
            // Attached by the parent (cgroup.procs), which applies the CPUs on every kernel.
            #expect(placement.directoryFD == nil)
            placement.close()
            #expect(try driver.placement(joining: path).directoryFD == nil)
            let joiningPlain = try driver.placement(joining: CgroupPath("berth/plain"))
            #expect(joiningPlain.directoryFD != nil)
            joiningPlain.close()
            #expect(fs.read("berth-oci/deep/cgroup.subtree_control")?.contains("+cpuset") == true)
            #expect(fs.read("berth-oci/deep/abc/cpuset.cpus") == "0")
            #expect(fs.read("berth-oci/deep/abc/cpuset.mems") == "0")
            #expect(fs.read("berth-oci/deep/abc/memory.low") == "4096")
        }

        @Test func v2WithoutTheCpusetControllerIsUnsupported() throws {
            let fs = try FakeCgroupFS(.unified(controllers: "cpu memory pids"))
            let error = try #require(throws: RuntimeError.self) {
                try fs.v2Driver().create(path, limits: ResourceLimits(cpuset: CPUSet(cpus: "0")))
            }
            #expect(error.code == .unsupported && error.message.contains("cpuset cgroup controller is not available"))
        }

        @Test(arguments: ["0", "0-3", "0-3,6,8-9", "12"])
        func validLists(list: String) { #expect(CPUSet.isList(list)) }

        @Test(arguments: ["", "3-1", "a", "1,,2", "+1", "1-", "-1", "0 1"])
        func invalidLists(list: String) { #expect(!CPUSet.isList(list)) }

        @Test func badValuesAreRefusedBeforeAnythingIsMade() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu", "pids", "cpuset"]))
            let cases: [(ResourceLimits, String)] = [
                (ResourceLimits(cpuset: CPUSet(cpus: "3-1")), "cpuset cpus \"3-1\" is not a list"),
                (ResourceLimits(memorySwappiness: 101), "memory swappiness must be between 0 and 100, not 101"),
                (ResourceLimits(memoryReservationBytes: -5), "memory reservation must be 0 or more bytes"),
            ]
            for (limits, message) in cases {
                let error = try #require(throws: RuntimeError.self) { try fs.v1Driver().create(path, limits: limits) }
                #expect(error.code == .invalidArgument && error.message.contains(message))
                #expect(!fs.exists("memory/berth-oci"))
            }
        }
    }
}
