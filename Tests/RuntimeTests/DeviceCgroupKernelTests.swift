#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Runtime

/// A block device of the host that the device lists are tried against: the first in
/// /proc/partitions, or a loop device, that this process itself may open (a sandbox may refuse
/// the root disk even to root). No test writes to it.
enum HostBlockDevice {
    static let first: (path: String, major: UInt32, minor: UInt32)? = {
        let partitions = (HostCgroups.read("/proc/partitions") ?? "").split(separator: "\n").dropFirst()
            .compactMap { $0.split(separator: " ").last.map { "/dev/" + $0 } }
        for path in partitions + (0..<8).map({ "/dev/loop\($0)" }) {
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else { continue }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            close(fd)
            return (path, DeviceNode.major(of: UInt64(st.st_rdev)), DeviceNode.minor(of: UInt64(st.st_rdev)))
        }
        return nil
    }()

    /// A script that waits to be placed in its cgroup, then exits 0 when opening `path` for
    /// reading succeeds, 1 when it is refused.
    static func opening(_ path: String) -> String {
        "exec 2>/dev/null; read _; : < \(path) && exit 0; exit 1"
    }
}

extension CgroupTests {
    /// Device lists on the real kernel: v1's devices controller, and v2's eBPF program on whichever
    /// cgroup2 hierarchy the host has (the hybrid mount here, the root in the VM).
    @Suite("device lists on the host kernel", .serialized,
           .enabled(if: HostCgroups.isRoot && HostBlockDevice.first != nil, "needs root and a block device it may open"))
    struct DeviceKernel {
        static let v2Root = HostCgroups.hasHybridUnified ? HostCgroups.hybridUnifiedRoot : HostCgroups.root
        static let hasV2 = HostCgroups.hasHybridUnified || CgroupModeDetector.detect() == .unified
        static let hasV1Devices = HostCgroups.isRoot && CgroupModeDetector.detect() == .legacy
            && HostCgroups.exists(HostCgroups.root + "/devices/devices.list")

        /// Runs the opening script for `path` in a new cgroup with `rules` and returns whether it opened.
        func opens(_ path: String, rules: [DeviceRule], with driver: any CgroupDriver, directories: [String]) throws -> Bool {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: directories) }
            let cgroup = CgroupPath(parent + "/c1")
            try driver.create(cgroup, limits: ResourceLimits(devices: rules)).directoryFD.map { _ = close($0) }
            let child = try CgroupTestProcess(script: HostBlockDevice.opening(path))
            try driver.attach(pid: child.pid, to: cgroup)
            child.release()
            let status = child.wait()
            return status == 0
        }

        @Test("v2: the default list's program refuses the disk and /dev/kmsg and opens the default devices", .enabled(if: hasV2))
        func v2Default() throws {
            let driver = CgroupV2Driver(root: Self.v2Root)
            let disk = try #require(HostBlockDevice.first)
            #expect(try !opens(disk.path, rules: DeviceRule.containerDefault, with: driver, directories: [Self.v2Root]))
            for path in ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/ptmx"] {
                #expect(try opens(path, rules: DeviceRule.containerDefault, with: driver, directories: [Self.v2Root]), "\(path)")
            }
            // A character device outside the list (c 1:11), which the host itself may open.
            #expect(try !opens("/dev/kmsg", rules: DeviceRule.containerDefault, with: driver, directories: [Self.v2Root]))
        }

        @Test("v2: a rule for the disk opens it for reading; r does not open it for writing", .enabled(if: hasV2))
        func v2DeviceRule() throws {
            let driver = CgroupV2Driver(root: Self.v2Root)
            let disk = try #require(HostBlockDevice.first)
            let readOnly = DeviceRule.containerDefault
                + [DeviceRule(allow: true, kind: .block, major: disk.major, minor: disk.minor, access: .read)]
            #expect(try opens(disk.path, rules: readOnly, with: driver, directories: [Self.v2Root]))
            #expect(try opens(disk.path, rules: DeviceRule.allowAll, with: driver, directories: [Self.v2Root]))
            // ">>" opens for writing and writes nothing.
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: [Self.v2Root]) }
            let cgroup = CgroupPath(parent + "/c1")
            try driver.create(cgroup, limits: ResourceLimits(devices: readOnly)).directoryFD.map { _ = close($0) }
            let child = try CgroupTestProcess(script: "exec 2>/dev/null; read _; : >> \(disk.path) && exit 0; exit 1")
            try driver.attach(pid: child.pid, to: cgroup)
            child.release()
            #expect(child.wait() != 0)
        }

        @Test("v2: creating the cgroup again replaces its program instead of stacking a second", .enabled(if: hasV2))
        func v2Replaces() throws {
            let driver = CgroupV2Driver(root: Self.v2Root)
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: [Self.v2Root]) }
            let cgroup = CgroupPath(parent + "/c1")
            try driver.create(cgroup, limits: ResourceLimits(devices: DeviceRule.containerDefault)).directoryFD.map { _ = close($0) }
            // A leaf left by a crash, made again with a list that opens everything: the new
            // program alone decides (two stacked would still refuse the disk).
            try driver.create(cgroup, limits: ResourceLimits(devices: DeviceRule.allowAll)).directoryFD.map { _ = close($0) }
            let disk = try #require(HostBlockDevice.first)
            let child = try CgroupTestProcess(script: HostBlockDevice.opening(disk.path))
            try driver.attach(pid: child.pid, to: cgroup)
            child.release()
            #expect(child.wait() == 0)
        }

        @Test("v1: the devices cgroup holds the default list and refuses the disk", .enabled(if: hasV1Devices))
        func v1Default() throws {
            let driver = CgroupV1Driver()
            let directories = ["memory", "cpu", "pids", "devices"].map { HostCgroups.root + "/" + $0 }
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: directories) }
            let cgroup = CgroupPath(parent + "/c1")
            _ = try driver.create(cgroup, limits: ResourceLimits(devices: DeviceRule.containerDefault))
            let list = HostCgroups.read("\(HostCgroups.root)/devices/\(parent)/c1/devices.list") ?? ""
            #expect(list.split(separator: "\n").map(String.init) == [
                "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
            ])
            let disk = try #require(HostBlockDevice.first)
            let child = try CgroupTestProcess(script: HostBlockDevice.opening(disk.path))
            try driver.attach(pid: child.pid, to: cgroup)
            #expect(HostCgroups.cgroup(of: child.pid, controller: "devices") == "/\(parent)/c1")
            child.release()
            #expect(child.wait() != 0)
        }

        @Test("v1: a privileged list leaves every device open", .enabled(if: hasV1Devices))
        func v1AllowAll() throws {
            let driver = CgroupV1Driver()
            let directories = ["memory", "cpu", "pids", "devices"].map { HostCgroups.root + "/" + $0 }
            let disk = try #require(HostBlockDevice.first)
            #expect(try opens(disk.path, rules: DeviceRule.allowAll, with: driver, directories: directories))
        }
    }
}
