import Foundation
import Testing

extension Containers {
    /// Limits enforced by the cgroup driver of this host (v1 here, v2 in the VM), seen from
    /// inside the container.
    @Suite("Cgroup limits")
    struct CgroupLimits {
        let fixture = Fixture.shared

        @Test("the container's cgroup is its namespace root")
        func cgroupNamespace() throws {
            let r = try fixture.run(["--memory", "64m"], ["/bin/cat", "/proc/self/cgroup"])
            #expect(r.status == 0)
            for line in r.output.split(separator: "\n") {
                #expect(line.hasSuffix(":/"), "\(line) is not the namespace root")
            }
        }

        @Test("--memory: exceeding it is an OOM kill, exit 137 with the reason; under it survives")
        func memoryLimit() throws {
            let killed = try fixture.run(["--memory", "64m"], ["/bin/payload", "memhog", "256"])
            #expect(killed.status == 137)
            #expect(killed.stderr.contains("berth: killed: out of memory (limit 64 MiB)"))
            #expect(!killed.stdout.contains("done"))
            let fine = try fixture.run(["--memory", "64m"], ["/bin/payload", "memhog", "16"])
            #expect(fine.status == 0)
            #expect(fine.output == "done 16")
        }

        @Test("--pids-limit stops a fork bomb")
        func pidsLimit() throws {
            let r = try fixture.run(["--pids-limit", "32"], ["/bin/payload", "forkbomb", "500"])
            #expect(r.status == 0, "\(r.stderr)")
            let forked = Int(r.output.split(separator: " ").last ?? "") ?? -1
            #expect(forked >= 20 && forked < 32, "forked \(forked)")
        }

        @Test("--cpus 0.5 gives a busy loop about half a core")
        func cpuQuota() throws {
            let seconds = Host.inVM ? "3" : "2"
            let r = try fixture.run(["--cpus", "0.5"], ["/bin/payload", "spin", seconds])
            #expect(r.status == 0)
            let percent = Int(r.output.split(separator: " ").last ?? "") ?? -1
            #expect(percent >= 30 && percent <= 62, "got \(percent)% of a core")
        }

        @Test("the limits are written where the kernel reads them", .enabled(if: Host.isCgroupV1, "needs cgroup v1 (this host)"))
        func v1Files() throws {
            let r = try fixture.run(["--memory", "64m", "--cpus", "0.5", "--pids-limit", "64", "--network", "host"],
                                    ["/bin/sh", "-c", "sleep 0.1; echo started"])
            #expect(r.status == 0)
            // While it runs the values are checked by the driver's own tests; here we check that
            // nothing stays behind afterwards.
            for controller in ["memory", "cpu", "pids"] {
                let parent = "/sys/fs/cgroup/\(controller)/\(fixture.cgroupParent)"
                let children = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
                #expect(children.filter { $0.count == 64 }.isEmpty, "\(controller): \(children)")
            }
        }
    }
}
