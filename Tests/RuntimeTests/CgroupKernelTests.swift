#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Runtime

/// What the host offers the real-kernel tests.
enum HostCgroups {
    static let root = CgroupModeDetector.defaultRoot
    static let isRoot = getuid() == 0

    /// Root on a v1 (or hybrid) host with the memory, cpu and pids hierarchies mounted.
    static let hasV1 = isRoot && CgroupModeDetector.detect() == .legacy
        && ["memory/memory.limit_in_bytes", "cpu/cpu.cfs_quota_us", "pids/cgroup.procs"]
            .allSatisfy { access(root + "/" + $0, F_OK) == 0 }

    /// Root on a pure v2 host whose root cgroup offers memory, cpu and pids.
    static let hasV2: Bool = {
        guard isRoot, let listed = try? String(contentsOfFile: root + "/cgroup.controllers", encoding: .utf8) else {
            return false
        }
        let controllers = listed.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return ["memory", "cpu", "pids"].allSatisfy { controllers.contains(Substring($0)) }
    }()

    /// The cgroup2 mount of a hybrid host: a real v2 hierarchy, though without the controllers
    /// we limit with (they are bound to the v1 hierarchies).
    static let hybridUnifiedRoot = root + "/unified"
    static let hasHybridUnified = isRoot && exists(hybridUnifiedRoot + "/cgroup.controllers")

    /// A parent no other test run uses, so parallel runs never meet.
    static func uniqueParent() -> String {
        "berth-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The cgroup `pid` is in for `controller` per /proc/<pid>/cgroup ("" = the v2 line).
    static func cgroup(of pid: pid_t, controller: String) -> String? {
        for line in (read("/proc/\(pid)/cgroup") ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1].split(separator: ",")
            if controller.isEmpty ? fields[1].isEmpty : controllers.contains(Substring(controller)) {
                return String(fields[2])
            }
        }
        return nil
    }

    /// Removes the test parent (and anything left in it) and checks that it is gone.
    static func removeTestParent(_ parent: String, with driver: any CgroupDriver, directories: [String]) {
        #expect(throws: Never.self) { try driver.destroy(CgroupPath(parent)) }
        for directory in directories {
            #expect(!exists(directory + "/" + parent), "test cgroup left behind in \(directory)")
        }
    }

    /// A pipeline whose `tail` holds one ever-growing line in memory until the OOM killer stops it.
    /// (stderr is silenced: the shell reports the kill.)
    static let memoryHog = "exec 2>/dev/null; read _; head -c 268435456 /dev/zero | tail -n 1 > /dev/null"
}

extension CgroupTests {
    /// The v1 driver on this host's kernel (hybrid here: v1 memory, cpu and pids hierarchies).
    @Suite("v1 on the host kernel",
           .enabled(if: HostCgroups.hasV1, "needs root and cgroup v1 memory, cpu and pids hierarchies at /sys/fs/cgroup"))
    struct V1Kernel {
        let driver = CgroupV1Driver()
        /// devices only where the host mounts it: the driver makes the cgroup in every hierarchy present.
        let hierarchies = ["memory", "cpu", "pids", "devices"].map { HostCgroups.root + "/" + $0 }.filter(HostCgroups.exists)

        @Test func createAttachAndDestroy() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: hierarchies) }
            let path = CgroupPath(parent + "/c1")
            _ = try driver.create(path, limits: ResourceLimits(memoryBytes: 64 << 20, cpu: CPUBandwidth(cpus: 0.5), pidsLimit: 64))

            let memory = "\(HostCgroups.root)/memory/\(parent)/c1"
            #expect(HostCgroups.read(memory + "/memory.limit_in_bytes") == "67108864")
            if HostCgroups.exists(memory + "/memory.memsw.limit_in_bytes") {
                #expect(HostCgroups.read(memory + "/memory.memsw.limit_in_bytes") == "67108864")
            }
            #expect(HostCgroups.read("\(HostCgroups.root)/cpu/\(parent)/c1/cpu.cfs_quota_us") == "50000")
            #expect(HostCgroups.read("\(HostCgroups.root)/cpu/\(parent)/c1/cpu.cfs_period_us") == "100000")
            #expect(HostCgroups.read("\(HostCgroups.root)/pids/\(parent)/c1/pids.max") == "64")

            let child = try CgroupTestProcess(script: "exec /bin/sleep 30")
            try driver.attach(pid: child.pid, to: path)
            for controller in ["memory", "cpu", "pids"] {
                #expect(HostCgroups.cgroup(of: child.pid, controller: controller) == "/\(parent)/c1")
            }
            #expect(try driver.events(of: path) == CgroupEvents(oomKills: 0))

            try driver.destroy(path)
            #expect(CgroupTestProcess.terminatingSignal(child.wait()) == SIGKILL)
            for hierarchy in hierarchies {
                #expect(!HostCgroups.exists("\(hierarchy)/\(parent)/c1"))
                #expect(!HostCgroups.exists("\(hierarchy)/\(parent)"), "the parent made for it goes with it")
            }
        }

        /// Re-creating over an existing cgroup with a higher memory limit has to raise memsw first.
        @Test func limitsOnAnExistingCgroupCanGoUpAndDown() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: hierarchies) }
            let path = CgroupPath(parent + "/c1")
            let memory = "\(HostCgroups.root)/memory/\(parent)/c1/memory.limit_in_bytes"
            for megabytes: Int64 in [32, 128, 16] {
                _ = try driver.create(path, limits: ResourceLimits(memoryBytes: megabytes << 20))
                #expect(HostCgroups.read(memory) == String(megabytes << 20))
            }
        }

        @Test func anOOMKillIsReported() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: hierarchies) }
            let path = CgroupPath(parent + "/oom")
            _ = try driver.create(path, limits: ResourceLimits(memoryBytes: 16 << 20, pidsLimit: 16))
            let child = try CgroupTestProcess(script: HostCgroups.memoryHog)
            try driver.attach(pid: child.pid, to: path)
            child.release()
            _ = child.wait()
            #expect(try driver.events(of: path).oomKills >= 1)
            try driver.destroy(path)
        }

        @Test func aChildCgroupMadeInsideIsRemovedToo() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: hierarchies) }
            let path = CgroupPath(parent + "/c1")
            _ = try driver.create(path, limits: ResourceLimits())
            let nested = "\(HostCgroups.root)/memory/\(parent)/c1/nested"
            #expect(mkdir(nested, 0o755) == 0)
            let child = try CgroupTestProcess(script: "exec /bin/sleep 30")
            #expect(throws: Never.self) { try ControlFile.write(String(child.pid), to: nested + "/cgroup.procs") }
            try driver.destroy(path)
            #expect(CgroupTestProcess.terminatingSignal(child.wait()) == SIGKILL)
            #expect(!HostCgroups.exists(nested))
        }
    }

    /// The v2 driver on a pure v2 kernel (the VM harness); skipped on hybrid and v1 hosts.
    @Suite("v2 on the host kernel",
           .enabled(if: HostCgroups.hasV2,
                    "needs root on a pure cgroup v2 host whose /sys/fs/cgroup/cgroup.controllers lists memory, cpu and pids"))
    struct V2Kernel {
        let driver = CgroupV2Driver()

        @Test func createAttachAndDestroy() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: [HostCgroups.root]) }
            let path = CgroupPath(parent + "/c1")
            let placement = try driver.create(path, limits: ResourceLimits(memoryBytes: 64 << 20, cpu: CPUBandwidth(cpus: 0.5), pidsLimit: 64))
            let fd = try #require(placement.directoryFD)
            defer { close(fd) }

            let leaf = "\(HostCgroups.root)/\(parent)/c1"
            var byFD = stat(), byPath = stat()
            #expect(fstat(fd, &byFD) == 0 && stat(leaf, &byPath) == 0)
            #expect(byFD.st_ino == byPath.st_ino && byFD.st_dev == byPath.st_dev)
            #expect(HostCgroups.read(leaf + "/memory.max") == "67108864")
            if HostCgroups.exists(leaf + "/memory.swap.max") {
                #expect(HostCgroups.read(leaf + "/memory.swap.max") == "0")
            }
            #expect(HostCgroups.read(leaf + "/cpu.max") == "50000 100000")
            #expect(HostCgroups.read(leaf + "/pids.max") == "64")

            let child = try CgroupTestProcess(script: "exec /bin/sleep 30")
            try driver.attach(pid: child.pid, to: path)
            #expect(HostCgroups.cgroup(of: child.pid, controller: "") == "/\(parent)/c1")
            #expect(try driver.events(of: path) == CgroupEvents(oomKills: 0))

            try driver.destroy(path)
            #expect(CgroupTestProcess.terminatingSignal(child.wait()) == SIGKILL)
            #expect(!HostCgroups.exists(leaf))
            #expect(!HostCgroups.exists("\(HostCgroups.root)/\(parent)"), "the parent made for it goes with it")
        }

        @Test func anOOMKillIsReported() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: [HostCgroups.root]) }
            let path = CgroupPath(parent + "/oom")
            let placement = try driver.create(path, limits: ResourceLimits(memoryBytes: 16 << 20, pidsLimit: 16))
            placement.directoryFD.map { _ = close($0) }
            let child = try CgroupTestProcess(script: HostCgroups.memoryHog)
            try driver.attach(pid: child.pid, to: path)
            child.release()
            _ = child.wait()
            #expect(try driver.events(of: path).oomKills >= 1)
            try driver.destroy(path)
        }

        @Test func aChildCgroupMadeInsideIsRemovedToo() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: [HostCgroups.root]) }
            let path = CgroupPath(parent + "/c1")
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            let nested = "\(HostCgroups.root)/\(parent)/c1/nested"
            #expect(mkdir(nested, 0o755) == 0)
            let child = try CgroupTestProcess(script: "exec /bin/sleep 30")
            #expect(throws: Never.self) { try ControlFile.write(String(child.pid), to: nested + "/cgroup.procs") }
            try driver.destroy(path)
            #expect(CgroupTestProcess.terminatingSignal(child.wait()) == SIGKILL)
            #expect(!HostCgroups.exists(nested))
        }
    }

    /// The v2 driver's kernel-facing steps without controllers, on the cgroup2 mount a hybrid
    /// host has beside its v1 hierarchies: leaf fd, attach, cgroup.kill, rmdir, child cgroups,
    /// and the refusal of limits whose controller the hierarchy lacks.
    @Suite("v2 on the hybrid host's cgroup2 mount",
           .enabled(if: HostCgroups.hasHybridUnified, "needs root on a hybrid host with a cgroup2 mount at /sys/fs/cgroup/unified"))
    struct V2HybridKernel {
        let driver = CgroupV2Driver(root: HostCgroups.hybridUnifiedRoot)

        @Test func createAttachAndDestroyWithoutLimits() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: [HostCgroups.hybridUnifiedRoot]) }
            let path = CgroupPath(parent + "/c1")
            let placement = try driver.create(path, limits: ResourceLimits())
            let fd = try #require(placement.directoryFD)
            defer { close(fd) }
            let leaf = "\(HostCgroups.hybridUnifiedRoot)/\(parent)/c1"
            var byFD = stat(), byPath = stat()
            #expect(fstat(fd, &byFD) == 0 && stat(leaf, &byPath) == 0)
            #expect(byFD.st_ino == byPath.st_ino && byFD.st_dev == byPath.st_dev)

            let child = try CgroupTestProcess(script: "exec /bin/sleep 30")
            try driver.attach(pid: child.pid, to: path)
            #expect(HostCgroups.cgroup(of: child.pid, controller: "") == "/\(parent)/c1")
            #expect(try driver.events(of: path) == CgroupEvents(oomKills: 0))

            try driver.destroy(path)
            #expect(CgroupTestProcess.terminatingSignal(child.wait()) == SIGKILL)
            #expect(!HostCgroups.exists(leaf))
            #expect(!HostCgroups.exists("\(HostCgroups.hybridUnifiedRoot)/\(parent)"), "the parent made for it goes with it")
        }

        @Test func aChildCgroupMadeInsideIsRemovedToo() throws {
            let parent = HostCgroups.uniqueParent()
            defer { HostCgroups.removeTestParent(parent, with: driver, directories: [HostCgroups.hybridUnifiedRoot]) }
            let path = CgroupPath(parent + "/c1")
            try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
            let nested = "\(HostCgroups.hybridUnifiedRoot)/\(parent)/c1/nested"
            #expect(mkdir(nested, 0o755) == 0)
            let child = try CgroupTestProcess(script: "exec /bin/sleep 30")
            #expect(throws: Never.self) { try ControlFile.write(String(child.pid), to: nested + "/cgroup.procs") }
            try driver.destroy(path)
            #expect(CgroupTestProcess.terminatingSignal(child.wait()) == SIGKILL)
            #expect(!HostCgroups.exists(nested))
        }

        @Test(arguments: [ResourceLimits(memoryBytes: 64 << 20), ResourceLimits(cpu: CPUBandwidth(cpus: 1)), ResourceLimits(pidsLimit: 8)])
        func limitsWithoutTheirControllerAreUnsupported(limits: ResourceLimits) throws {
            let parent = HostCgroups.uniqueParent()
            let error = try #require(throws: RuntimeError.self) {
                try driver.create(CgroupPath(parent + "/c1"), limits: limits)
            }
            #expect(error.code == .unsupported)
            #expect(error.description.contains("cgroup controller is not available (\(HostCgroups.hybridUnifiedRoot)/cgroup.controllers lists:"))
            #expect(!HostCgroups.exists("\(HostCgroups.hybridUnifiedRoot)/\(parent)"), "nothing is created")
        }
    }
}
