import Foundation
import Testing

/// What the host offers, for `.enabled(if:)` conditions: tests that need root or a kernel
/// feature are skipped with the reason printed, never passed silently.
enum Host {
    static let isRoot = getuid() == 0
    /// Pure cgroup v2 (the VM suite); this project's host is hybrid and uses the v1 driver.
    static let isCgroupV2 = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
    static let isCgroupV1 = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    static let hasGCC = FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc")
    static let canRunContainers = isRoot && hasGCC
    /// What the network tests build their stand-in hosts with, and berth's table needs.
    static let hasNetworkTools = ["/usr/bin/nsenter", "/usr/sbin/nft", "/usr/sbin/ip", "/usr/bin/pkill"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: $0)
    } && !inVM
    /// Inside the QEMU VM everything runs 10-20x slower: loops are shortened there.
    static let inVM = ProcessInfo.processInfo.environment["BERTH_IN_VM"] == "1"

    static let notRoot: Comment = "needs root and gcc (for the test payload): run the suite as root"
}
