import Foundation
import Testing

extension Containers {
    /// What only a pure cgroup v2 host shows (run in the VM: rootfs-scripts/vm/run-tests.sh).
    @Suite("Cgroup v2", .enabled(if: Host.isCgroupV2, "needs pure cgroup v2 (runs in the VM; this host is hybrid)"))
    struct CgroupV2 {
        let fixture = Fixture.shared

        @Test("clone3 puts the child into its cgroup atomically (CLONE_INTO_CGROUP)")
        func cloneIntoCgroup() throws {
            let r = try fixture.run(["--memory", "64m"], ["/bin/cat", "/proc/self/cgroup"], global: ["--debug"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("placed-without-attach=true"), "v2 places the child with clone3 (no v1 tasks files there)")
            #expect(r.output == "0::/")
        }

        @Test("the limits are visible in the container's own cgroup2 mount")
        func limitsInside() throws {
            let r = try fixture.run(["--memory", "64m", "--cpus", "0.5", "--pids-limit", "64"],
                                    ["/bin/sh", "-c", "cd /sys/fs/cgroup && cat memory.max memory.swap.max cpu.max pids.max"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.output == "67108864\n0\n50000 100000\n64")
        }

        @Test("the cgroup filesystem is read-only inside")
        func readOnlyCgroupfs() throws {
            let r = try fixture.run([], ["/bin/sh", "-c", "mkdir /sys/fs/cgroup/escape 2>&1; echo rc=$?"])
            #expect(r.output.hasSuffix("rc=1"))
        }

        @Test("delegation: controllers enabled on the way down, no process in a non-leaf cgroup")
        func delegation() throws {
            let state = try fixture.makeStateRoot()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: fixture.berth)
            process.arguments = ["--root", state, "run", "--network", "none", "--cgroup-parent", fixture.cgroupParent,
                                 "--rootfs", fixture.rootfs, "--memory", "32m", "--pids-limit", "8", "--",
                                 "/bin/payload", "trap"]
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = FileHandle.nullDevice
            try process.run()
            _ = out.fileHandleForReading.availableData   // "ready"
            defer {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
            let parent = "/sys/fs/cgroup/\(fixture.cgroupParent)"
            let control = try String(contentsOfFile: parent + "/cgroup.subtree_control", encoding: .utf8)
            #expect(control.contains("memory") && control.contains("pids"))
            #expect(try String(contentsOfFile: parent + "/cgroup.procs", encoding: .utf8).isEmpty)
            let leaves = try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.count == 64 }
            #expect(leaves.count == 1)
            if let leaf = leaves.first {
                let procs = try String(contentsOfFile: "\(parent)/\(leaf)/cgroup.procs", encoding: .utf8)
                #expect(!procs.isEmpty)
            }
        }

        @Test("an OOM kill is counted in memory.events and reported")
        func oom() throws {
            let r = try fixture.run(["--memory", "32m"], ["/bin/payload", "memhog", "128"])
            #expect(r.status == 137)
            #expect(r.stderr.contains("killed: out of memory (limit 32 MiB)"))
        }
    }
}
