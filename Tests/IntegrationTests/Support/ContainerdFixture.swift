import Foundation

/// A containerd of the test's own: root, state, its sockets and berth-oci's state root under a
/// fresh directory, the CRI plugin off, and the fixture's busybox root imported as
/// `busybox:ctr` (made with `berth import` and `berth save`). `removeAll` takes away the tasks,
/// containerd, its shims, the overlay snapshots it mounted, the containers' cgroups and the
/// directory, also after a failed test.
final class Containerd {
    let fixture: Fixture
    let directory: String
    let socket: String
    /// Unique, so the cgroups and shims of one test's containerd are never another's.
    let namespace: String
    private let daemon: Process
    static let image = "busybox:ctr"

    var berthOCI: String { URL(fileURLWithPath: fixture.berth).deletingLastPathComponent().appendingPathComponent("berth-oci").path }
    /// berth-oci's --root as the shim passes it: the runc root given to ctr plus the namespace.
    var runcRoot: String { directory + "/runc-root/" + namespace }

    init(_ fixture: Fixture) throws {
        if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
        self.fixture = fixture
        directory = try fixture.makeStateRoot()
        socket = directory + "/containerd.sock"
        namespace = "berthtest-" + UUID().uuidString.prefix(8).lowercased()
        let config = """
            version = 2
            root = "\(directory)/root"
            state = "\(directory)/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "\(socket)"
            [ttrpc]
              address = "\(socket).ttrpc"
            [debug]
              address = "\(directory)/debug.sock"

            """
        try config.write(toFile: directory + "/config.toml", atomically: true, encoding: .utf8)
        // Its output goes to a file: shims it starts could inherit a pipe and keep it open.
        let log = directory + "/containerd.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/containerd")
        daemon.arguments = ["--config", directory + "/config.toml"]
        daemon.standardInput = FileHandle.nullDevice
        daemon.standardOutput = FileHandle(forWritingAtPath: log)
        daemon.standardError = FileHandle(forWritingAtPath: log)
        try daemon.run()
        do {
            let ready = try eventually(within: 20, poll: 0.1) {
                try Command.run("/usr/bin/ctr", ["-a", socket, "version"], timeout: 5).status == 0
            }
            guard ready else { throw FixtureError(message: "containerd did not answer in 20 s: \(Kernel.read(log) ?? "")") }
            try importBusybox()
        } catch {
            removeAll()
            throw error
        }
    }

    private func importBusybox() throws {
        let store = directory + "/berth-store", tar = directory + "/busybox.tar"
        let imported = try fixture.berth(["import", fixture.rootfs, Self.image], root: store)
        guard imported.status == 0 else { throw FixtureError(message: "berth import failed: \(imported.stderr)") }
        let saved = try fixture.berth(["save", Self.image, "-o", tar], root: store)
        guard saved.status == 0 else { throw FixtureError(message: "berth save failed: \(saved.stderr)") }
        let loaded = try ctr(["image", "import", tar])
        guard loaded.status == 0 else { throw FixtureError(message: "ctr image import failed: \(loaded.stderr)") }
    }

    /// `ctr -a SOCKET -n NAMESPACE ARGS`.
    func ctr(_ args: [String], timeout: Double = 60) throws -> Command.Result {
        try Command.run("/usr/bin/ctr", ["-a", socket, "-n", namespace] + args, timeout: timeout)
    }

    /// `ctr run` of the busybox image with berth-oci as the runc v2 shim's runtime, in a cgroup
    /// below the fixture's parent.
    func run(_ options: [String], id: String, _ command: [String]) throws -> Command.Result {
        try ctr(["run", "--runtime", "io.containerd.runc.v2", "--runc-binary", berthOCI,
                 "--runc-root", directory + "/runc-root", "--cgroup", cgroupsPath(id)] + options + [Self.image, id] + command)
    }

    func cgroupsPath(_ id: String) -> String { "/\(fixture.cgroupParent)/\(namespace)-\(id)" }

    func cgroupDirectory(_ id: String) -> String {
        Host.isCgroupV2 ? "/sys/fs/cgroup" + cgroupsPath(id) : "/sys/fs/cgroup/pids" + cgroupsPath(id)
    }

    /// A row of `ctr task ls`: its pid and status.
    func task(_ id: String) -> (pid: Int32, status: String)? {
        guard let listed = try? ctr(["task", "ls"]) else { return nil }
        for line in listed.stdout.split(separator: "\n") {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            if columns.count == 3, columns[0] == id, let pid = Int32(columns[1]) { return (pid, String(columns[2])) }
        }
        return nil
    }

    func removeAll() {
        if daemon.isRunning {
            for id in (try? ctr(["task", "ls", "--quiet"], timeout: 10))?.stdout.split(separator: "\n") ?? [] {
                _ = try? ctr(["task", "delete", "--force", String(id)], timeout: 20)
            }
            for id in (try? ctr(["container", "ls", "--quiet"], timeout: 10))?.stdout.split(separator: "\n") ?? [] {
                _ = try? ctr(["container", "rm", String(id)], timeout: 20)
            }
            daemon.terminate()
            if !eventually(within: 10, { !daemon.isRunning }) { kill(daemon.processIdentifier, SIGKILL) }
            daemon.waitUntilExit()
        }
        killShims()
        unmountAll()
        removeCgroups()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Shims outlive containerd by design; this containerd's are the ones given its address.
    private func killShims() {
        for entry in Kernel.entries("/proc") {
            guard let pid = Int32(entry), let cmdline = Kernel.read("/proc/\(entry)/cmdline") else { continue }
            let args = cmdline.split(separator: "\0").map(String.init)
            if args.first?.hasSuffix("containerd-shim-runc-v2") == true && args.contains(socket) { kill(pid, SIGKILL) }
        }
    }

    /// The snapshots and rootfs mounts under the directory, deepest first.
    private func unmountAll() {
        let mountPoints = (Kernel.read("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4].hasPrefix(directory + "/") ? String(fields[4]) : nil
        }
        for point in mountPoints.sorted(by: { $0.count > $1.count }) { umount2(point, Int32(MNT_DETACH)) }
    }

    private func removeCgroups() {
        let parent = "/" + fixture.cgroupParent
        let bases = Host.isCgroupV2 ? ["/sys/fs/cgroup"]
            : ["memory", "cpu", "pids", "freezer", "devices", "cpuacct", "cpu,cpuacct", "blkio", "net_cls", "perf_event", "hugetlb"]
                .map { "/sys/fs/cgroup/" + $0 }
        for base in bases {
            for name in Kernel.entries(base + parent) where name.hasPrefix(namespace + "-") { rmdir(base + parent + "/" + name) }
        }
    }
}
