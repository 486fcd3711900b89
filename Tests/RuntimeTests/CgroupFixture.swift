import Foundation
import Synchronization
import SystemPackage
import Testing
@testable import Runtime

/// The cgroup driver tests, grouped by what they exercise.
@Suite("Cgroups") struct CgroupTests {}

/// A temp directory that stands in for cgroupfs: control files are real files the drivers read
/// and write, while mkdir, rmdir and kill go through a fake kernel that does what cgroupfs does
/// and a plain directory can't — fill a new cgroup with its control files (v2: only those of the
/// controllers the parent delegates), refuse rmdir while live processes or child cgroups remain,
/// and remove a cgroup together with its files. `kill` only records: no real process is touched.
final class FakeCgroupFS: Sendable {
    enum Layout: Sendable {
        /// A cgroup2 root listing `controllers` in cgroup.controllers.
        case unified(controllers: String = "cpuset cpu io memory hugetlb pids rdma misc")
        /// v1 hierarchies, one directory per name (`cpu,cpuacct` style co-mounts allowed).
        case legacy(hierarchies: [String] = ["memory", "cpu", "pids"])
    }

    let root: String
    let layout: Layout
    /// File names the fake kernel leaves out of new cgroups (a kernel without the feature).
    let omitted: Set<String>
    /// File names the fake kernel makes as directories, so writing them fails with EISDIR.
    let unwritable: Set<String>
    /// When set, killed processes never leave (a process stuck in the kernel).
    let immortal: Bool
    private let killedPIDs = Mutex<[pid_t]>([])
    /// The cgroups berth marked as made by it (`CgroupAncestors`), as the xattr would.
    private let markedPaths = Mutex<Set<String>>([])

    init(_ layout: Layout, omitting omitted: Set<String> = [], unwritable: Set<String> = [], immortal: Bool = false) throws {
        var template = Array("/tmp/berth-cgroup-fixture-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Errno(rawValue: errno) }
        root = String(cString: made)
        self.layout = layout
        self.omitted = omitted
        self.unwritable = unwritable
        self.immortal = immortal
        switch layout {
        case .unified(let controllers):
            try write("cgroup.controllers", controllers)
            try write("cgroup.subtree_control", "")
            try write("cgroup.procs", "")
        case .legacy(let hierarchies):
            for hierarchy in hierarchies {
                try FileManager.default.createDirectory(atPath: root + "/" + hierarchy, withIntermediateDirectories: false)
                try write(hierarchy + "/cgroup.procs", "")
            }
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var syscalls: CgroupSyscalls {
        CgroupSyscalls(
            makeDirectory: { path throws(Errno) in try self.makeCgroup(path) },
            removeDirectory: { path throws(Errno) in try self.removeCgroup(path) },
            kill: { pid in self.killedPIDs.withLock { $0.append(pid) } },
            mark: { path in _ = self.markedPaths.withLock { $0.insert(path) } },
            isMarked: { path in self.markedPaths.withLock { $0.contains(path) } }
        )
    }

    var killed: [pid_t] { killedPIDs.withLock { $0 } }

    /// The marked cgroups, relative to the root.
    var marked: Set<String> { Set(markedPaths.withLock { $0 }.map { String($0.dropFirst(root.count + 1)) }) }

    func v2Driver() -> CgroupV2Driver {
        CgroupV2Driver(root: root, syscalls: syscalls, removalTimeout: .milliseconds(100))
    }

    func v1Driver(optionalControllers: Bool = false) -> CgroupV1Driver {
        CgroupV1Driver(root: root, syscalls: syscalls, removalTimeout: .milliseconds(100), optionalControllers: optionalControllers)
    }

    // MARK: - Reading and arranging the fixture (paths relative to the root)

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    func write(_ relative: String, _ contents: String) throws {
        try contents.write(toFile: root + "/" + relative, atomically: false, encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: root + "/" + relative)
    }

    /// Makes a cgroup the way the kernel would on mkdir (for arranging state before a test).
    func makeCgroup(relative: String) throws {
        try makeCgroup(root + "/" + relative)
    }

    // MARK: - The fake kernel

    private func makeCgroup(_ path: String) throws(Errno) {
        if mkdir(path, 0o755) != 0 { throw Errno(rawValue: errno) }
        var files = ["cgroup.procs"]
        switch layout {
        case .unified:
            let parent = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            let delegated = (try? String(contentsOfFile: parent + "/cgroup.subtree_control", encoding: .utf8)) ?? ""
            let controllers = delegated.split(whereSeparator: { $0 == " " || $0 == "\n" })
                .map { $0.hasPrefix("+") ? String($0.dropFirst()) : String($0) }
            files += ["cgroup.subtree_control", "cgroup.events", "cgroup.kill", "cgroup.freeze"]
            if controllers.contains("memory") { files += ["memory.max", "memory.swap.max", "memory.events", "memory.low", "memory.high"] }
            if controllers.contains("io") { files += ["io.weight", "io.max"] }
            if controllers.contains("hugetlb") { files += ["hugetlb.2MB.max"] }
            if controllers.contains("cpuset") { files += ["cpuset.cpus", "cpuset.mems"] }
            if controllers.contains("cpu") { files += ["cpu.max"] }
            if controllers.contains("pids") { files += ["pids.max"] }
            create(path + "/cgroup.controllers", contents: controllers.joined(separator: " "))
        case .legacy:
            let hierarchy = path.dropFirst(root.count + 1).split(separator: "/").first ?? ""
            let controllers = hierarchy.split(separator: ",")
            files += ["tasks"]
            if controllers.contains("memory") {
                files += ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.oom_control",
                          "memory.soft_limit_in_bytes", "memory.swappiness"]
            }
            // A new v1 cpuset cgroup's lists are empty, as the kernel makes them.
            if controllers.contains("cpuset") { files += ["cpuset.cpus", "cpuset.mems"] }
            if controllers.contains("cpu") { files += ["cpu.cfs_period_us", "cpu.cfs_quota_us"] }
            if controllers.contains("pids") { files += ["pids.max"] }
            if controllers.contains("freezer") { files += ["freezer.state"] }
            if controllers.contains("devices") { files += ["devices.allow", "devices.deny"] }
            if controllers.contains("blkio") {
                files += ["blkio.weight", "blkio.leaf_weight", "blkio.weight_device", "blkio.leaf_weight_device"]
                    + ["read_bps_device", "write_bps_device", "read_iops_device", "write_iops_device"].map { "blkio.throttle." + $0 }
            }
            if controllers.contains("hugetlb") { files += ["hugetlb.2MB.limit_in_bytes"] }
            if controllers.contains("net_cls") { files += ["net_cls.classid"] }
            if controllers.contains("net_prio") { files += ["net_prio.ifpriomap"] }
        }
        for file in files where !omitted.contains(file) {
            if unwritable.contains(file) {
                mkdir(path + "/" + file, 0o755)
            } else {
                create(path + "/" + file, contents: Self.initialContents[file] ?? "")
            }
        }
    }

    private func removeCgroup(_ path: String) throws(Errno) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            throw .noSuchFileOrDirectory
        }
        let childCgroups = entries.filter { entry in
            var isDirectory: ObjCBool = false
            return !unwritable.contains(entry)
                && FileManager.default.fileExists(atPath: path + "/" + entry, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
        if !childCgroups.isEmpty { throw .resourceBusy }
        let killedByFile = (try? String(contentsOfFile: path + "/cgroup.kill", encoding: .utf8)) == "1"
        let procs = ((try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { pid_t($0) }
        let gone = immortal ? [] : killed
        if !(killedByFile && !immortal) && procs.contains(where: { !gone.contains($0) }) { throw .resourceBusy }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw .ioError
        }
        // The xattr goes with the directory.
        _ = markedPaths.withLock { $0.remove(path) }
    }

    /// What the kernel shows in a new cgroup's files where the drivers read it before writing.
    private static let initialContents = ["freezer.state": "THAWED\n", "cgroup.freeze": "0\n"]

    private func create(_ path: String, contents: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(contents.utf8))
    }
}
