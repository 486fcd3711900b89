import Foundation
import Testing

/// Why the containerd suite cannot run here (the skip reason printed), or nil.
private let containerdMissing: String? = ["/usr/bin/containerd", "/usr/bin/ctr", "/usr/bin/containerd-shim-runc-v2"]
    .first { !FileManager.default.isExecutableFile(atPath: $0) }
    .map { "needs containerd and ctr (Debian's containerd package): \($0) is missing" }

extension Containers {
    /// containerd (Debian's 1.6) with berth-oci as the runc binary of its runc v2 shim: the
    /// caller Kubernetes uses. Each test starts its own containerd on a temporary config (root,
    /// state, sockets under the test's directory, no CRI plugin) and imports the fixture's
    /// busybox root, saved by berth as an OCI archive; no registry is involved.
    @Suite("OCIContainerd", .enabled(if: containerdMissing == nil, "\(containerdMissing ?? "")"))
    struct OCIContainerd {
        let fixture = Fixture.shared

        @Test("ctr run --rm through berth-oci: output and exit status come back, nothing is left")
        func runRemove() throws {
            let containerd = try Containerd(fixture)
            defer { containerd.removeAll() }
            let ran = try containerd.run(["--rm"], id: "r1", ["sh", "-c", "echo hi from $(cat /proc/1/comm); exit 3"])
            #expect(ran.status == 3, "\(ran.stderr)")
            #expect(ran.output == "hi from sh", "\(ran.stdout) \(ran.stderr)")
            #expect(try containerd.ctr(["container", "ls", "--quiet"]).output.isEmpty)
            #expect(try containerd.ctr(["task", "ls", "--quiet"]).output.isEmpty)
            #expect(Kernel.entries(containerd.runcRoot).isEmpty, "berth-oci's state left: \(Kernel.entries(containerd.runcRoot))")
            #expect(!FileManager.default.fileExists(atPath: containerd.cgroupDirectory("r1")))
        }

        @Test("ctr run -d, task exec, task ls, task kill, task delete and container rm through berth-oci")
        func detachedLifecycle() throws {
            let containerd = try Containerd(fixture)
            defer { containerd.removeAll() }
            let started = try containerd.run(["-d", "--null-io", "--cpu-shares", "512"], id: "d1",
                                             ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
            try #require(started.status == 0, "\(started.stderr)")
            let pid = try #require(containerd.task("d1")?.pid)
            #expect(containerd.task("d1")?.status == "RUNNING")
            #expect(Kernel.isAlive(pid))
            let cgroups = Kernel.read("/proc/\(pid)/cgroup") ?? ""
            #expect(cgroups.contains(containerd.cgroupsPath("d1")), "not in its cgroup: \(cgroups)")
            // containerd always sets linux.resources.cpu.shares (ctr's default is 1024).
            let share = Host.isCgroupV2 ? Kernel.read("/sys/fs/cgroup\(containerd.cgroupsPath("d1"))/cpu.weight")
                : Kernel.read("/sys/fs/cgroup/cpu\(containerd.cgroupsPath("d1"))/cpu.shares")
            #expect(share?.trimmingCharacters(in: .whitespacesAndNewlines) == (Host.isCgroupV2 ? "20" : "512"))
            // It outlives `berth-oci exec --detach` (the sleep): no parent-death signal ends it then.
            let exec = try containerd.ctr(["task", "exec", "--exec-id", "x1", "d1", "sh", "-c",
                                           "sleep 0.5; echo exec beside $(cat /proc/1/comm); readlink /proc/self/ns/pid"])
            #expect(exec.status == 0, "\(exec.stderr)")
            let lines = exec.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "exec beside sh", "\(exec.stdout) \(exec.stderr)")
            let initNamespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid")) ?? "?"
            #expect(lines.last == initNamespace, "exec ran outside the container's pid namespace: \(lines)")
            let ps = try containerd.ctr(["task", "ps", "d1"])
            #expect(ps.status == 0 && ps.stdout.contains("\(pid)"), "\(ps.stdout) \(ps.stderr)")
            let killed = try containerd.ctr(["task", "kill", "d1"])
            #expect(killed.status == 0, "\(killed.stderr)")
            #expect(eventually { containerd.task("d1")?.status == "STOPPED" })
            #expect(!Kernel.isAlive(pid))
            let deleted = try containerd.ctr(["task", "delete", "d1"])
            #expect(deleted.status == 0, "\(deleted.stderr)")
            let removed = try containerd.ctr(["container", "rm", "d1"])
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try containerd.ctr(["container", "ls", "--quiet"]).output.isEmpty)
            #expect(Kernel.entries(containerd.runcRoot).isEmpty, "berth-oci's state left: \(Kernel.entries(containerd.runcRoot))")
            #expect(!FileManager.default.fileExists(atPath: containerd.cgroupDirectory("d1")))
        }

        @Test("a network namespace joined by path (--with-ns), as containerd's CNI setup hands it over")
        func joinedNetworkNamespace() throws {
            let containerd = try Containerd(fixture)
            defer { containerd.removeAll() }
            let started = try containerd.run(["-d", "--null-io"], id: "owner", ["sleep", "100"])
            try #require(started.status == 0, "\(started.stderr)")
            let pid = try #require(containerd.task("owner")?.pid)
            let namespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
            let joined = try containerd.run(["--rm", "--with-ns", "network:/proc/\(pid)/ns/net"], id: "guest",
                                            ["readlink", "/proc/self/ns/net"])
            #expect(joined.status == 0, "\(joined.stderr)")
            #expect(joined.output == namespace, "\(joined.stdout) \(joined.stderr)")
        }

        /// berth-oci's failures reach ctr's stderr: the shim reads them from `--log` (runc's JSON
        /// log lines) and passes the message on.
        @Test("berth-oci's errors reach ctr through its --log JSON: a bad namespace path, a refused setting, a bad exec")
        func failuresAreExplained() throws {
            let containerd = try Containerd(fixture)
            defer { containerd.removeAll() }
            let badPath = try containerd.run(["--rm", "--with-ns", "network:/no/such/netns"], id: "f1", ["true"])
            #expect(badPath.status != 0)
            #expect(badPath.stderr.contains("OCI runtime create failed: cannot open the network namespace /no/such/netns"),
                    "\(badPath.stderr)")
            let refused = try containerd.run(["--rm", "--rootfs-propagation", "shared"], id: "f2", ["true"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("linux.rootfsPropagation \"shared\""), "\(refused.stderr)")
            #expect(try containerd.ctr(["container", "ls", "--quiet"]).output.isEmpty)

            try #require(try containerd.run(["-d", "--null-io"], id: "f3", ["sleep", "100"]).status == 0)
            let exec = try containerd.ctr(["task", "exec", "--exec-id", "bad", "f3", "/no/such/program"])
            #expect(exec.status != 0)
            #expect(exec.stderr.contains("OCI runtime exec failed") && exec.stderr.contains("/no/such/program"),
                    "\(exec.stderr)")
            #expect(containerd.task("f3")?.status == "RUNNING")
        }
    }
}
