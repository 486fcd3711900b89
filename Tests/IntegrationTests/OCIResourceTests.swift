import Foundation
import Testing

extension Containers {
    /// berth-oci's blockIO, hugepageLimits, network and unified resources (issue 18), checked in
    /// the cgroup files, or refused with the reason where the host cannot have them. The v1
    /// tests run on the hybrid host, the v2 ones in the VM.
    @Suite("OCIResources")
    struct OCIResources {
        let fixture = Fixture.shared

        /// A whole disk's numbers (the throttles take disks, not partitions), from /sys/block.
        static var disk: (major: Int, minor: Int)? {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? []
            for name in names.sorted() where !name.hasPrefix("loop") && !name.hasPrefix("ram") && !name.hasPrefix("zram") {
                let numbers = Kernel.read("/sys/block/\(name)/dev")?.trimmingCharacters(in: .whitespacesAndNewlines)
                    .split(separator: ":").compactMap { Int($0) } ?? []
                if numbers.count == 2 { return (numbers[0], numbers[1]) }
            }
            return nil
        }

        static func resources(_ resources: [String: Any]) -> (inout [String: Any]) -> Void {
            { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["resources"] = resources
                spec["linux"] = linux
            }
        }

        static func read(_ file: String) -> String {
            (Kernel.read(file) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        @Test("blockIO's throttles are in the blkio cgroup's files, the process in it; delete removes it",
              .enabled(if: Host.isCgroupV1 && disk != nil, "needs cgroup v1's blkio hierarchy and a disk in /sys/block"))
        func blockIOThrottlesV1() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let disk = try #require(Self.disk)
            try world.writeSpec(id: "bio", args: ["sleep", "100"], edit: Self.resources(["blockIO": [
                "throttleReadBpsDevice": [["major": disk.major, "minor": disk.minor, "rate": 1_048_576]],
                "throttleWriteIOPSDevice": [["major": disk.major, "minor": disk.minor, "rate": 120]],
            ]]))
            let created = try world.create("bio")
            #expect(created.status == 0, "\(created.stderr)")
            let directory = world.cgroupDirectory("bio", controller: "blkio")
            #expect(Self.read(directory + "/blkio.throttle.read_bps_device") == "\(disk.major):\(disk.minor) 1048576")
            #expect(Self.read(directory + "/blkio.throttle.write_iops_device") == "\(disk.major):\(disk.minor) 120")
            let pid = try #require(try world.state("bio")?["pid"] as? Int)
            #expect((Kernel.read("/proc/\(pid)/cgroup") ?? "").contains("blkio:" + world.cgroupsPath("bio")))
            #expect(try world.oci(["start", "bio"]).status == 0)
            let exec = try world.oci(["exec", "bio", "grep", "blkio", "/proc/self/cgroup"])
            // Seen through the container's cgroup namespace, rooted at its cgroups: "/" is its own
            // (outside it the path would climb with "..").
            #expect(exec.output.hasSuffix(":blkio:/"), "the exec is not in the blkio cgroup: \(exec.stdout)")
            #expect(try world.oci(["delete", "--force", "bio"]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: directory))
        }

        @Test("a blockIO weight: written where the kernel has blkio.weight, else refused naming the file",
              .enabled(if: Host.isCgroupV1, "needs cgroup v1's blkio hierarchy"))
        func blockIOWeightV1() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "w", args: ["sleep", "100"], edit: Self.resources(["blockIO": ["weight": 500]]))
            let created = try world.create("w")
            let directory = world.cgroupDirectory("w", controller: "blkio")
            if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/blkio/blkio.weight") {
                #expect(created.status == 0, "\(created.stderr)")
                #expect(Self.read(directory + "/blkio.weight") == "500")
            } else {
                // No proportional I/O scheduler (BFQ) on this kernel: no file to write.
                #expect(created.status == 1 && created.stderr.contains("blkio.weight does not exist"), "\(created.stderr)")
                #expect(!FileManager.default.fileExists(atPath: directory))
                #expect(try world.state("w") == nil)
            }
        }

        @Test("hugepageLimits, network and unified are refused with the reason on this v1 host, nothing left behind",
              .enabled(if: Host.isCgroupV1, "the v1 refusals; the VM's v2 host writes these (v2Resources)"))
        func refusedOnV1() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let cases: [(String, [String: Any], String)] = [
                ("huge", ["hugepageLimits": [["pageSize": "2MB", "limit": 4 << 21]]], "cannot set the hugepage limit"),
                ("net", ["network": ["classID": 1_048_577]], "cannot set the network class id"),
                ("uni", ["unified": ["memory.high": "50000000"]], "this host's cgroups are v1"),
            ]
            for (id, resources, message) in cases {
                try world.writeSpec(id: id, args: ["true"], edit: Self.resources(resources))
                let created = try world.create(id)
                #expect(created.status == 1 && created.stderr.contains(message), "\(id): \(created.stderr)")
                #expect(try world.state(id) == nil)
                #expect(!FileManager.default.fileExists(atPath: world.cgroupDirectory(id, controller: "memory")))
            }
        }

        @Test("v2: io.weight and io.max, hugetlb.2MB.max and unified files are written; network is refused",
              .enabled(if: Host.isCgroupV2 && disk != nil, "needs cgroup v2 alone (the VM) and a disk in /sys/block"))
        func v2Resources() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let disk = try #require(Self.disk)
            let hugetlb = FileManager.default.fileExists(atPath: "/sys/kernel/mm/hugepages/hugepages-2048kB")
            var resources: [String: Any] = [
                "blockIO": ["throttleReadBpsDevice": [["major": disk.major, "minor": disk.minor, "rate": 1_048_576]]],
                // A whole number of pages: the kernel rounds memory.high down to one.
                "unified": ["memory.high": "52428800", "pids.max": "33"],
            ]
            if hugetlb { resources["hugepageLimits"] = [["pageSize": "2MB", "limit": 4 << 21]] }
            try world.writeSpec(id: "v2", args: ["sleep", "100"], edit: Self.resources(resources))
            let created = try world.create("v2")
            #expect(created.status == 0, "\(created.stderr)")
            let directory = world.cgroupDirectory("v2", controller: "io")
            #expect(Self.read(directory + "/io.max").hasPrefix("\(disk.major):\(disk.minor) rbps=1048576"))
            #expect(Self.read(directory + "/memory.high") == "52428800")
            #expect(Self.read(directory + "/pids.max") == "33")
            if hugetlb { #expect(Self.read(directory + "/hugetlb.2MB.max") == "\(4 << 21)") }
            #expect(try world.oci(["delete", "--force", "v2"]).status == 0)

            try world.writeSpec(id: "bad", args: ["true"], edit: Self.resources(["unified": ["cgroup.max.depth": "2"]]))
            let bad = try world.create("bad")
            #expect(bad.status == 1 && bad.stderr.contains("cannot write the cgroup file cgroup.max.depth"), "\(bad.stderr)")
            try world.writeSpec(id: "net", args: ["true"], edit: Self.resources(["network": ["classID": 1_048_577]]))
            let net = try world.create("net")
            #expect(net.status == 1 && net.stderr.contains("has no net_cls or net_prio controller"), "\(net.stderr)")
        }
    }
}
