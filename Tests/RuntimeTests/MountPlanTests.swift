import Testing
import Runtime

/// The mount plan is data (bubblewrap's idea): these tests assert the exact ordered list of
/// operations for the configurations berth produces, without root and without a kernel.
@Suite("Mount plan") struct MountPlanTests {
    static let hardened: MountFlags = [.noSuid, .noDev, .noExec]

    static func config(_ edit: (inout ContainerConfig) -> Void = { _ in }) -> ContainerConfig {
        var config = ContainerConfig(id: String(repeating: "ab", count: 32), rootfs: "/srv/root",
                                     args: ["sh"], env: [])
        edit(&config)
        return config
    }

    /// Written out by hand from the OCI/runc defaults, independently of MountPlan.
    static let expectedHead: [MountOperation] = [
        .init(.mount(fstype: "proc", source: "proc", data: nil), target: "/proc", flags: hardened),
        .init(.mount(fstype: "tmpfs", source: "tmpfs", data: "mode=755,size=65536k"), target: "/dev",
              flags: [.noSuid, .strictAtime]),
        .init(.device(major: 1, minor: 3, mode: 0o666, hostPath: "/dev/null"), target: "/dev/null"),
        .init(.device(major: 1, minor: 5, mode: 0o666, hostPath: "/dev/zero"), target: "/dev/zero"),
        .init(.device(major: 1, minor: 7, mode: 0o666, hostPath: "/dev/full"), target: "/dev/full"),
        .init(.device(major: 1, minor: 8, mode: 0o666, hostPath: "/dev/random"), target: "/dev/random"),
        .init(.device(major: 1, minor: 9, mode: 0o666, hostPath: "/dev/urandom"), target: "/dev/urandom"),
        .init(.device(major: 5, minor: 0, mode: 0o666, hostPath: "/dev/tty"), target: "/dev/tty"),
        .init(.mount(fstype: "devpts", source: "devpts", data: "newinstance,ptmxmode=0666,mode=0620,gid=5"),
              target: "/dev/pts", flags: [.noSuid, .noExec]),
        .init(.symlink(to: "pts/ptmx"), target: "/dev/ptmx"),
        .init(.mount(fstype: "tmpfs", source: "shm", data: "mode=1777,size=65536k"), target: "/dev/shm",
              flags: hardened),
        .init(.mount(fstype: "mqueue", source: "mqueue", data: nil), target: "/dev/mqueue", flags: hardened),
        .init(.symlink(to: "/proc/self/fd"), target: "/dev/fd"),
        .init(.symlink(to: "/proc/self/fd/0"), target: "/dev/stdin"),
        .init(.symlink(to: "/proc/self/fd/1"), target: "/dev/stdout"),
        .init(.symlink(to: "/proc/self/fd/2"), target: "/dev/stderr"),
    ]
    static let sysfs = MountOperation(.mount(fstype: "sysfs", source: "sysfs", data: nil), target: "/sys",
                                      flags: [.readOnly, .noSuid, .noDev, .noExec])
    static let cgroup2 = MountOperation(.mount(fstype: "cgroup2", source: "cgroup2", data: nil),
                                        target: "/sys/fs/cgroup", flags: [.readOnly, .noSuid, .noDev, .noExec])
    static let expectedTail: [MountOperation] = [
        .init(.mask, target: "/proc/acpi"), .init(.mask, target: "/proc/asound"),
        .init(.mask, target: "/proc/interrupts"), .init(.mask, target: "/proc/kcore"), .init(.mask, target: "/proc/keys"),
        .init(.mask, target: "/proc/latency_stats"), .init(.mask, target: "/proc/timer_list"),
        .init(.mask, target: "/proc/timer_stats"), .init(.mask, target: "/proc/sched_debug"),
        .init(.mask, target: "/proc/scsi"), .init(.mask, target: "/sys/firmware"),
        .init(.mask, target: "/sys/devices/virtual/powercap"),
        .init(.readOnly, target: "/proc/bus"), .init(.readOnly, target: "/proc/fs"),
        .init(.readOnly, target: "/proc/irq"), .init(.readOnly, target: "/proc/sys"),
        .init(.readOnly, target: "/proc/sysrq-trigger"),
    ]

    @Suite("default configuration") struct Defaults {
        @Test func unifiedHostGetsTheFullListInOrder() {
            let ops = MountPlan.operations(for: MountPlanTests.config(), cgroupMode: .unified, consolePath: nil)
            #expect(ops == MountPlanTests.expectedHead + [MountPlanTests.sysfs, MountPlanTests.cgroup2]
                + MountPlanTests.expectedTail)
            #expect(ops.count == 35)
        }

        @Test func legacyHostHasNoCgroup2Mount() {
            let ops = MountPlan.operations(for: MountPlanTests.config(), cgroupMode: .legacy, consolePath: nil)
            #expect(ops == MountPlanTests.expectedHead + [MountPlanTests.sysfs] + MountPlanTests.expectedTail)
            #expect(!ops.contains { $0.target == "/sys/fs/cgroup" })
        }

        @Test func withoutTheCgroupNamespaceCgroup2IsNotMountedEvenOnUnified() {
            let config = MountPlanTests.config { $0.namespaces.remove(.cgroup) }
            let ops = MountPlan.operations(for: config, cgroupMode: .unified, consolePath: nil)
            #expect(!ops.contains(MountPlanTests.cgroup2))
            #expect(ops == MountPlanTests.expectedHead + [MountPlanTests.sysfs] + MountPlanTests.expectedTail)
        }

        @Test func nothingIsOptionalWithTheIPCNamespace() {
            let ops = MountPlan.operations(for: MountPlanTests.config(), cgroupMode: .unified, consolePath: nil)
            #expect(ops.allSatisfy { !$0.optional })
        }

        @Test func everyTargetIsAbsolute() {
            let ops = MountPlan.operations(for: MountPlanTests.config { $0.bindMounts = [
                BindMount(source: "/a", destination: "/b", readOnly: false),
            ] }, cgroupMode: .unified, consolePath: "/dev/pts/3")
            #expect(ops.allSatisfy { $0.target.hasPrefix("/") })
        }

        @Test func theHostsDevIsNeverMounted() {
            let ops = MountPlan.operations(for: MountPlanTests.config(), cgroupMode: .unified, consolePath: nil)
            let devMounts = ops.filter { $0.target == "/dev" }
            #expect(devMounts.count == 1)
            #expect(devMounts.first?.kind == .mount(fstype: "tmpfs", source: "tmpfs", data: "mode=755,size=65536k"))
            #expect(!ops.contains { if case .bind = $0.kind { return true } else { return false } })
        }
    }

    @Suite("variations") struct Variations {
        @Test func withoutTheIPCNamespaceMqueueIsOptional() {
            let config = MountPlanTests.config { $0.namespaces.remove(.ipc) }
            let ops = MountPlan.operations(for: config, cgroupMode: .unified, consolePath: nil)
            let mqueue = ops.filter { $0.target == "/dev/mqueue" }
            #expect(mqueue.count == 1)
            #expect(mqueue.first?.optional == true)
            // Only mqueue changes.
            #expect(ops.filter(\.optional).map(\.target) == ["/dev/mqueue"])
            #expect(ops.count == 35)
        }

        @Test func consoleIsBoundOnlyWithATerminalPath() throws {
            let without = MountPlan.operations(for: MountPlanTests.config(), cgroupMode: .unified, consolePath: nil)
            #expect(!without.contains { $0.target == "/dev/console" })

            let with = MountPlan.operations(for: MountPlanTests.config(), cgroupMode: .unified,
                                            consolePath: "/dev/pts/7")
            #expect(with.count == without.count + 1)
            let index = try #require(with.firstIndex { $0.target == "/dev/console" })
            #expect(with[index] == MountOperation(.bind(source: "/dev/pts/7"), target: "/dev/console",
                                                  flags: [.noSuid, .noExec]))
            // After the /dev links, before sysfs.
            #expect(with[index - 1].target == "/dev/stderr")
            #expect(with[index + 1] == MountPlanTests.sysfs)
            var removed = with
            removed.remove(at: index)
            #expect(removed == without)
        }

        @Test func userBindMountsComeAfterSysfsWithTheirReadOnlyFlag() {
            let config = MountPlanTests.config {
                $0.bindMounts = [
                    BindMount(source: "/srv/data", destination: "/data", readOnly: true),
                    BindMount(source: "/srv/cache", destination: "/var/cache", readOnly: false),
                ]
            }
            let ops = MountPlan.operations(for: config, cgroupMode: .unified, consolePath: nil)
            let binds: [MountOperation] = [
                .init(.bind(source: "/srv/data"), target: "/data", flags: [.readOnly]),
                .init(.bind(source: "/srv/cache"), target: "/var/cache", flags: []),
            ]
            #expect(ops == MountPlanTests.expectedHead + [MountPlanTests.sysfs, MountPlanTests.cgroup2]
                + binds + MountPlanTests.expectedTail)
        }

        @Test func maskedThenReadOnlyPathsAreLast() {
            let config = MountPlanTests.config {
                $0.bindMounts = [BindMount(source: "/x", destination: "/y", readOnly: false)]
                $0.maskedPaths = ["/proc/kcore", "/sys/firmware"]
                $0.readOnlyPaths = ["/proc/sys"]
            }
            let ops = MountPlan.operations(for: config, cgroupMode: .legacy, consolePath: "/dev/pts/0")
            #expect(Array(ops.suffix(4)) == [
                .init(.bind(source: "/x"), target: "/y"),
                .init(.mask, target: "/proc/kcore"),
                .init(.mask, target: "/sys/firmware"),
                .init(.readOnly, target: "/proc/sys"),
            ])
        }

        @Test func privilegedConfigHasNoMaskedOrReadOnlyPaths() {
            let config = MountPlanTests.config {
                $0.maskedPaths = []
                $0.readOnlyPaths = []
                $0.capabilities = nil
                $0.seccomp = nil
            }
            let ops = MountPlan.operations(for: config, cgroupMode: .unified, consolePath: nil)
            #expect(ops == MountPlanTests.expectedHead + [MountPlanTests.sysfs, MountPlanTests.cgroup2])
            #expect(!ops.contains { $0.kind == .mask || $0.kind == .readOnly })
        }

        @Test func hostNetworkStillMountsSysfsReadOnly() {
            let config = MountPlanTests.config { $0.namespaces.remove(.network) }
            let ops = MountPlan.operations(for: config, cgroupMode: .unified, consolePath: nil)
            #expect(ops.filter { $0.target == "/sys" } == [MountPlanTests.sysfs])
        }
    }

    @Suite("descriptions") struct Descriptions {
        @Test func defaultPlanPrintsOneReadableLinePerOperation() {
            let config = MountPlanTests.config {
                $0.bindMounts = [BindMount(source: "/srv/data", destination: "/data", readOnly: true)]
                $0.maskedPaths = ["/proc/kcore"]
                $0.readOnlyPaths = ["/proc/sys"]
                $0.namespaces.remove(.ipc)
            }
            let lines = MountPlan.operations(for: config, cgroupMode: .unified, consolePath: "/dev/pts/4")
                .map(\.description)
            #expect(lines == [
                "mount proc proc on /proc (nosuid,nodev,noexec)",
                "mount tmpfs tmpfs on /dev -o mode=755,size=65536k (nosuid,strictatime)",
                "mknod /dev/null c 1 3 mode 666",
                "mknod /dev/zero c 1 5 mode 666",
                "mknod /dev/full c 1 7 mode 666",
                "mknod /dev/random c 1 8 mode 666",
                "mknod /dev/urandom c 1 9 mode 666",
                "mknod /dev/tty c 5 0 mode 666",
                "mount devpts devpts on /dev/pts -o newinstance,ptmxmode=0666,mode=0620,gid=5 (nosuid,noexec)",
                "symlink /dev/ptmx -> pts/ptmx",
                "mount tmpfs shm on /dev/shm -o mode=1777,size=65536k (nosuid,nodev,noexec)",
                "mount mqueue mqueue on /dev/mqueue (nosuid,nodev,noexec) [optional]",
                "symlink /dev/fd -> /proc/self/fd",
                "symlink /dev/stdin -> /proc/self/fd/0",
                "symlink /dev/stdout -> /proc/self/fd/1",
                "symlink /dev/stderr -> /proc/self/fd/2",
                "bind /dev/pts/4 on /dev/console (nosuid,noexec)",
                "mount sysfs sysfs on /sys (ro,nosuid,nodev,noexec)",
                "mount cgroup2 cgroup2 on /sys/fs/cgroup (ro,nosuid,nodev,noexec)",
                "bind /srv/data on /data (ro)",
                "mask /proc/kcore",
                "read-only /proc/sys",
            ])
        }

        @Test(arguments: [
            (MountOperation(.bind(source: "/a"), target: "/b"), "bind /a on /b"),
            (MountOperation(.bind(source: "/a"), target: "/b", flags: [.readOnly, .noDev], optional: true),
             "bind /a on /b (ro,nodev) [optional]"),
            (MountOperation(.mount(fstype: "tmpfs", source: "tmpfs", data: nil), target: "/tmp"),
             "mount tmpfs tmpfs on /tmp"),
            (MountOperation(.device(major: 10, minor: 200, mode: 0o600, hostPath: "/dev/net/tun"),
                            target: "/dev/net/tun"), "mknod /dev/net/tun c 10 200 mode 600"),
            (MountOperation(.symlink(to: "/x"), target: "/y", optional: true), "symlink /y -> /x [optional]"),
            (MountOperation(.mask, target: "/proc/keys"), "mask /proc/keys"),
            (MountOperation(.readOnly, target: "/proc/bus"), "read-only /proc/bus"),
        ])
        func singleOperation(op: MountOperation, text: String) {
            #expect(op.description == text)
        }

        @Test func flagsUseTheKernelValues() {
            // <sys/mount.h>: MS_RDONLY 1, MS_NOSUID 2, MS_NODEV 4, MS_NOEXEC 8, MS_STRICTATIME 1<<24.
            #expect(MountFlags.readOnly.rawValue == 1)
            #expect(MountFlags.noSuid.rawValue == 2)
            #expect(MountFlags.noDev.rawValue == 4)
            #expect(MountFlags.noExec.rawValue == 8)
            #expect(MountFlags.strictAtime.rawValue == 0x100_0000)
        }
    }
}
