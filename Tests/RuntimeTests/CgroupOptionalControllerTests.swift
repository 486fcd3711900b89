import Foundation
import Testing
@testable import Runtime

extension CgroupTests {
    /// The limits only an OCI spec sets (blockIO, hugepageLimits, network, unified), written as
    /// the runtime spec says into each driver's files, on a fake cgroupfs.
    @Suite("OCI-only limits") struct OptionalControllers {
        let path = CgroupPath("berth/abc")

        static var blockIO: OCIRuntimeSpec.Linux.BlockIO {
            .init(weight: 500, leafWeight: 300, weightDevice: [.init(major: 8, minor: 0, weight: 200)],
                  throttleReadBpsDevice: [.init(major: 8, minor: 0, rate: 1_048_576)],
                  throttleWriteIOPSDevice: [.init(major: 8, minor: 16, rate: 100)])
        }

        static var limits: ResourceLimits {
            var limits = ResourceLimits()
            limits.blockIO = blockIO
            limits.hugepageLimits = [.init(pageSize: "2MB", limit: 4 << 21)]
            limits.network = .init(classID: 0x100001, priorities: [.init(name: "eth0", priority: 5)])
            return limits
        }

        @Test func v1WritesEachInItsOwnHierarchyAndDestroyRemovesThem() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu", "pids", "blkio", "hugetlb", "net_cls,net_prio"]))
            let driver = fs.v1Driver(optionalControllers: true)
            let placement = try driver.create(path, limits: Self.limits)
            placement.close()
            #expect(fs.read("blkio/berth/abc/blkio.weight") == "500")
            #expect(fs.read("blkio/berth/abc/blkio.leaf_weight") == "300")
            #expect(fs.read("blkio/berth/abc/blkio.weight_device") == "8:0 200")
            #expect(fs.read("blkio/berth/abc/blkio.throttle.read_bps_device") == "8:0 1048576")
            #expect(fs.read("blkio/berth/abc/blkio.throttle.write_iops_device") == "8:16 100")
            #expect(fs.read("hugetlb/berth/abc/hugetlb.2MB.limit_in_bytes") == "\(4 << 21)")
            #expect(fs.read("net_cls,net_prio/berth/abc/net_cls.classid") == "1048577")
            #expect(fs.read("net_cls,net_prio/berth/abc/net_prio.ifpriomap") == "eth0 5")
            // An exec joins them too (the co-mounted hierarchy once).
            let joining = try driver.placement(joining: path)
            #expect(joining.taskFiles.count == 6)
            joining.close()
            try driver.destroy(path)
            for hierarchy in ["blkio", "hugetlb", "net_cls,net_prio", "memory"] {
                #expect(!fs.exists(hierarchy + "/berth/abc"), "\(hierarchy) left behind")
            }
        }

        @Test func v1WithoutTheLimitsMakesNoCgroupThere() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu", "pids", "blkio"]))
            try fs.v1Driver().create(path, limits: ResourceLimits()).close()
            #expect(fs.exists("memory/berth/abc") && !fs.exists("blkio/berth/abc"))
        }

        @Test func v1SaysWhereAHybridHostKeepsHugetlb() throws {
            let fs = try FakeCgroupFS(.legacy())
            try FileManager.default.createDirectory(atPath: fs.root + "/unified", withIntermediateDirectories: false)
            try fs.write("unified/cgroup.controllers", "hugetlb\n")
            var limits = ResourceLimits()
            limits.hugepageLimits = [.init(pageSize: "2MB", limit: 1 << 21)]
            let error = #expect(throws: RuntimeError.self) { try fs.v1Driver().create(path, limits: limits) }
            #expect(error?.code == .unsupported)
            #expect(error?.message.contains("cgroup2 hierarchy at \(fs.root)/unified, where berth's v1 driver places no containers")
                        == true, "\(error?.message ?? "")")
            #expect(!fs.exists("memory/berth/abc"), "the other hierarchies' cgroups were not taken back")
        }

        @Test func v2WritesIOHugetlbAndUnifiedFilesWithTheirControllersEnabled() throws {
            let fs = try FakeCgroupFS(.unified())
            var limits = Self.limits
            limits.network = nil
            limits.unified = ["memory.high": "50000000"]
            try fs.v2Driver().create(path, limits: limits).close()
            #expect(fs.read("berth/cgroup.subtree_control")?.contains("+io") == true)
            // 200 of 10…1000 is 1920 of 1…10000 (runc's scale); the device's weight is the last write.
            #expect(fs.read("berth/abc/io.weight") == "8:0 1920")
            #expect(fs.read("berth/abc/io.max") == "8:16 wiops=100")
            #expect(fs.read("berth/abc/hugetlb.2MB.max") == "\(4 << 21)")
            #expect(fs.read("berth/abc/memory.high") == "50000000")
        }

        @Test func aPageSizeOrInterfaceThatWouldLeaveItsFileIsRefusedBeforeAnythingIsMade() throws {
            let fs = try FakeCgroupFS(.legacy(hierarchies: ["memory", "cpu", "pids", "hugetlb", "net_prio"]))
            var huge = ResourceLimits()
            huge.hugepageLimits = [.init(pageSize: "../../memory/x", limit: 1)]
            var priority = ResourceLimits()
            priority.network = .init(priorities: [.init(name: "eth0 1\nlo", priority: 2)])
            for (limits, message) in [(huge, "page size \"../../memory/x\" is not a size"),
                                      (priority, "interface name \"eth0 1\nlo\" is not an interface name")] {
                let error = #expect(throws: RuntimeError.self) { try fs.v1Driver().create(path, limits: limits) }
                #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
                #expect(!fs.exists("memory/berth"))
            }
        }

        @Test(arguments: ["cgroup.max.depth", "memory/../x", "rdma.max", "nonsense"])
        func v2RefusesAUnifiedKeyThatIsNoEnabledControllersFile(key: String) throws {
            let fs = try FakeCgroupFS(.unified())
            var limits = ResourceLimits()
            limits.unified = [key: "1"]
            let error = #expect(throws: RuntimeError.self) { try fs.v2Driver().create(path, limits: limits) }
            #expect(error?.message.contains("cannot write the cgroup file \(key) (linux.resources.unified)") == true,
                    "\(error?.message ?? "")")
            #expect(!fs.exists("berth/abc"))
        }
    }
}
