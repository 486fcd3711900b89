#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

extension HostCgroups {
    /// Root on a v1 host with a freezer hierarchy (Debian's hybrid layout has one).
    static let hasV1Freezer = hasV1 && exists(root + "/freezer/cgroup.procs")

    /// Freezes a live process's cgroup, checks what the kernel says, thaws it, freezes it again
    /// and destroys it frozen: the kill must still end the process.
    static func freezeThawAndDestroy(_ driver: any CgroupDriver, directories: [String],
                                     kernelSaysFrozen: (String) -> Bool) throws {
        let parent = uniqueParent()
        defer { removeTestParent(parent, with: driver, directories: directories) }
        let path = CgroupPath(parent + "/c1")
        try driver.create(path, limits: ResourceLimits()).directoryFD.map { _ = close($0) }
        let child = try CgroupTestProcess(script: "exec /bin/sleep 30")
        // A frozen child's deinit (SIGKILL, waitpid) would wait for ever on v1: thawed first.
        defer {
            try? driver.thaw(path)
            withExtendedLifetime(child) {}
        }
        try driver.attach(pid: child.pid, to: path)

        try driver.freeze(path)
        #expect(kernelSaysFrozen(parent + "/c1"))
        #expect(try driver.isFrozen(path))
        try driver.thaw(path)
        #expect(!kernelSaysFrozen(parent + "/c1"))
        #expect(try !driver.isFrozen(path))
        #expect(Kernel.isAlive(child.pid))

        try driver.freeze(path)
        try driver.destroy(path)
        #expect(CgroupTestProcess.terminatingSignal(child.wait()) == SIGKILL)
    }
}

/// What /proc says of a process, for the freezer tests.
private enum Kernel {
    static func isAlive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 }
}

extension CgroupTests {
    @Suite("v1 freezer on the host kernel",
           .enabled(if: HostCgroups.hasV1Freezer, "needs root and a cgroup v1 freezer hierarchy at /sys/fs/cgroup/freezer"))
    struct V1FreezerKernel {
        @Test func freezeThawAndDestroyAFrozenCgroup() throws {
            let hierarchies = ["memory", "cpu", "pids", "freezer"].map { HostCgroups.root + "/" + $0 }
            try HostCgroups.freezeThawAndDestroy(CgroupV1Driver(), directories: hierarchies) { relative in
                HostCgroups.read("\(HostCgroups.root)/freezer/\(relative)/freezer.state") == "FROZEN"
            }
        }
    }

    @Suite("v2 freezer on the host kernel",
           .enabled(if: HostCgroups.hasV2, "needs root on a pure cgroup v2 host (runs in the VM)"))
    struct V2FreezerKernel {
        @Test func freezeThawAndDestroyAFrozenCgroup() throws {
            try HostCgroups.freezeThawAndDestroy(CgroupV2Driver(), directories: [HostCgroups.root]) { relative in
                HostCgroups.read("\(HostCgroups.root)/\(relative)/cgroup.events")?.contains("frozen 1") == true
            }
        }
    }

    /// The v2 freezer needs no controller: the hybrid host's cgroup2 mount has it too.
    @Suite("v2 freezer on the hybrid host's cgroup2 mount",
           .enabled(if: HostCgroups.hasHybridUnified, "needs root on a hybrid host with a cgroup2 mount at /sys/fs/cgroup/unified"))
    struct V2HybridFreezerKernel {
        @Test func freezeThawAndDestroyAFrozenCgroup() throws {
            let root = HostCgroups.hybridUnifiedRoot
            try HostCgroups.freezeThawAndDestroy(CgroupV2Driver(root: root), directories: [root]) { relative in
                HostCgroups.read("\(root)/\(relative)/cgroup.events")?.contains("frozen 1") == true
            }
        }
    }
}
