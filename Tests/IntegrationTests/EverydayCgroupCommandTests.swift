import Foundation
import Testing

/// The everyday commands of issue 14 that read or write a container's cgroup, on v1 here and v2
/// in the VM (VM_SUITES in .ci/test): top, update, and info's cgroup facts.
extension Kernel {
    /// A limit file of the container's cgroup: v2's `name`, or v1's `v1Name` in `controller`'s hierarchy.
    static func limit(_ cgroup: String, v2 name: String, v1 v1Name: String, controller: String) -> String? {
        let relative = cgroup.hasPrefix("/") ? String(cgroup.dropFirst()) : cgroup
        let path = Host.isCgroupV2
            ? "/sys/fs/cgroup/\(relative)/\(name)"
            : "/sys/fs/cgroup/\(controller)/\(relative)/\(v1Name)"
        return read(path)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func memoryLimit(_ cgroup: String) -> String? {
        limit(cgroup, v2: "memory.max", v1: "memory.limit_in_bytes", controller: "memory")
    }

    /// "quota period" on v2; v1's quota alone.
    static func cpuLimit(_ cgroup: String) -> String? {
        limit(cgroup, v2: "cpu.max", v1: "cpu.cfs_quota_us", controller: "cpu")
    }

    static func pidsLimit(_ cgroup: String) -> String? {
        limit(cgroup, v2: "pids.max", v1: "pids.max", controller: "pids")
    }

    /// v1's cpu.shares, or v2's cpu.weight (runc's conversion of the shares).
    static func cpuWeight(_ cgroup: String) -> String? {
        limit(cgroup, v2: "cpu.weight", v1: "cpu.shares", controller: "cpu")
    }
}

extension Containers {
    @Suite("Top")
    struct Top {
        let fixture = Fixture.shared

        @Test("top lists the processes of the container's cgroup with ps -ef's columns, also paused; ps options are ignored")
        func topOfARunningContainer() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "busy"], ["sh", "-c", "sleep 1001 & sleep 1002 & wait"])
            let cgroup = try root.cgroup("busy")
            #expect(root.waitUntil(seconds: 10) { (Kernel.cgroupProcs(cgroup) ?? []).count == 3 })
            for arguments in [["top", "busy"], ["top", "busy", "-ef"], ["top", "busy", "aux"]] {
                let r = try root.berth(arguments)
                #expect(r.status == 0, "\(arguments): \(r.stderr)")
                let lines = r.stdout.split(separator: "\n")
                #expect(lines.first?.split(separator: " ") == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"])
                // Seven columns, then the command with its own spaces.
                let rows = lines.dropFirst().map { line -> [String] in
                    let words = line.split(separator: " ").map(String.init)
                    return Array(words.prefix(7)) + [words.dropFirst(7).joined(separator: " ")]
                }
                let pids = Set(rows.compactMap { Int32($0[1]) })
                #expect(pids == Set(Kernel.cgroupProcs(cgroup) ?? []), "\(r.stdout)")
                let commands = rows.map { $0[7] }
                #expect(commands.contains("sleep 1001") && commands.contains("sleep 1002"), "\(r.stdout)")
                #expect(rows.allSatisfy { $0.first == "root" && $0.count == 8 }, "\(r.stdout)")
            }
            #expect(try root.berth(["pause", "busy"]).status == 0)
            let paused = try root.berth(["top", "busy"])
            #expect(paused.status == 0 && paused.stdout.contains("sleep 1001"), "\(paused.stderr)")
        }

        @Test("top refuses a stopped, a created and an unknown container, and a missing name")
        func topRefuses() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "ended"], ["true"])
            #expect(try root.waitForExit("ended") == "0")
            _ = try root.create(["--name", "made"], ["true"])
            for name in ["ended", "made"] {
                let r = try root.berth(["top", name])
                #expect(r.status == 1)
                #expect(r.stderr == "berth: container \(name) is not running: start it first (berth start \(name))\n", "\(r.stderr)")
            }
            let ghost = try root.berth(["top", "ghost"])
            #expect(ghost.status == 1 && ghost.stderr == "berth: no such container: ghost\n")
            let usage = try root.berth(["top"])
            #expect(usage.status == 125 && usage.stderr == "berth: top needs a container name or id\n")
        }
    }

    @Suite("Update")
    struct Update {
        let fixture = Fixture.shared

        /// inspect's HostConfig.
        private func hostConfig(_ root: LifecycleRoot, _ name: String) throws -> [String: Any] {
            try root.inspect(name)["HostConfig"] as? [String: Any] ?? [:]
        }

        private func expectLimits(_ root: LifecycleRoot, _ name: String, memory: Int, cpuQuota: Int, pids: Int,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
            let cgroup = try root.cgroup(name)
            #expect(Kernel.memoryLimit(cgroup) == String(memory), sourceLocation: sourceLocation)
            #expect(Kernel.cpuLimit(cgroup) == (Host.isCgroupV2 ? "\(cpuQuota) 100000" : String(cpuQuota)),
                    sourceLocation: sourceLocation)
            #expect(Kernel.pidsLimit(cgroup) == String(pids), sourceLocation: sourceLocation)
        }

        @Test("update writes a running container's cgroup and its record; a restart keeps the new limits")
        func updateRunning() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "limited", "--memory", "64m"], Containers.Pause.politeForever)
            let r = try root.berth(["update", "--memory", "128m", "--cpus", "0.5", "--pids-limit", "50", "limited"])
            #expect(r.status == 0 && r.output == "limited", "\(r.stderr)")
            try expectLimits(root, "limited", memory: 128 << 20, cpuQuota: 50000, pids: 50)
            let host = try hostConfig(root, "limited")
            #expect(host["Memory"] as? Int == 128 << 20)
            #expect(host["NanoCpus"] as? Int == 500_000_000)
            #expect(host["PidsLimit"] as? Int == 50)
            #expect(try root.berth(["restart", "-t", "5", "limited"]).status == 0)
            #expect(try root.status("limited")?.hasPrefix("Up ") == true)
            try expectLimits(root, "limited", memory: 128 << 20, cpuQuota: 50000, pids: 50)
            // One limit alone leaves the others.
            #expect(try root.berth(["update", "--pids-limit", "20", "limited"]).status == 0)
            try expectLimits(root, "limited", memory: 128 << 20, cpuQuota: 50000, pids: 20)
        }

        @Test("--cpu-shares: run writes cpu.shares (v2: cpu.weight) and the record; update changes both; bad values refused")
        func cpuShares() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "weighted", "--cpu-shares", "512"], Containers.Pause.politeForever)
            // v2: 1 + (shares - 2) * 9999 / 262142, as runc and crun convert them.
            #expect(Kernel.cpuWeight(try root.cgroup("weighted")) == (Host.isCgroupV2 ? "20" : "512"))
            #expect(try hostConfig(root, "weighted")["CpuShares"] as? Int == 512)
            let r = try root.berth(["update", "-c", "2048", "weighted"])
            #expect(r.status == 0 && r.output == "weighted", "\(r.stderr)")
            #expect(Kernel.cpuWeight(try root.cgroup("weighted")) == (Host.isCgroupV2 ? "79" : "2048"))
            #expect(try hostConfig(root, "weighted")["CpuShares"] as? Int == 2048)
            #expect(try root.berth(["restart", "-t", "5", "weighted"]).status == 0)
            #expect(Kernel.cpuWeight(try root.cgroup("weighted")) == (Host.isCgroupV2 ? "79" : "2048"))
            for bad in ["1", "262145", "-5"] {
                let refused = try root.berth(["update", "--cpu-shares", bad, "weighted"])
                #expect(refused.status != 0 && refused.stderr.contains("--cpu-shares must be from 2 to 262144"), "\(refused.stderr)")
            }
            let notCreated = try root.berth(["create", "--name", "never", "--cpu-shares", "1", LifecycleRoot.image, "true"])
            #expect(notCreated.status == 125 && notCreated.stderr.contains("--cpu-shares must be from 2 to 262144"))
            #expect(try root.status("never") == nil)
            #expect(Kernel.cpuWeight(try root.cgroup("weighted")) == (Host.isCgroupV2 ? "79" : "2048"))
        }

        @Test("update of a stopped and of a created container changes the record; the start applies it")
        func updateStoppedAndCreated() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "resting"], Containers.Pause.politeForever)
            #expect(try root.berth(["stop", "-t", "5", "resting"]).status == 0)
            _ = try root.create(["--name", "made", "--memory", "32m"], Containers.Pause.politeForever)
            let r = try root.berth(["update", "-m", "96m", "--cpus", "1", "--pids-limit", "30", "resting", "made"])
            #expect(r.status == 0 && r.output == "resting\nmade", "\(r.stderr)")
            for name in ["resting", "made"] {
                #expect(try hostConfig(root, name)["Memory"] as? Int == 96 << 20)
                #expect(try root.berth(["start", name]).status == 0)
                try expectLimits(root, name, memory: 96 << 20, cpuQuota: 100_000, pids: 30)
            }
        }

        /// Without swap, what a process has touched cannot be reclaimed: v1's kernel refuses the
        /// limit with EBUSY, v2's is checked against memory.current first.
        @Test("update refuses a memory limit below what the container uses, and changes nothing",
              .enabled(if: (Kernel.read("/proc/swaps") ?? "").split(separator: "\n").count <= 1, "needs a host without swap"))
        func updateBelowUsage() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            // 40 MiB in a shell variable; the loop keeps the shell (a last sleep would be exec'd, freeing it).
            let hold = "x=$(head -c 41943040 /dev/zero | tr '\\0' a); echo held > /held; while :; do sleep 1; done"
            _ = try root.runDetached(["--name", "hungry", "--memory", "256m"], ["sh", "-c", hold])
            // Building the 40 MiB string took over 20 s in the software-emulated VM on a busy host.
            #expect(root.waitUntil(seconds: 90) { (try? root.berth(["exec", "hungry", "cat", "/held"]).output) == "held" })
            let r = try root.berth(["update", "--memory", "16m", "hungry"], timeout: 60)
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("berth: cannot update container hungry: cannot lower the memory limit to 16 MiB: "
                + "its processes use more than that"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
            #expect(Kernel.memoryLimit(try root.cgroup("hungry")) == String(256 << 20))
            #expect(try hostConfig(root, "hungry")["Memory"] as? Int == 256 << 20)
            #expect(try root.status("hungry")?.hasPrefix("Up ") == true, "the refused update killed the container")
        }

        @Test("update refuses bad values, no limit and an unknown container, with one line")
        func updateRefuses() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.create(["--name", "made"], ["true"])
            let cases: [([String], Int32, String)] = [
                (["update", "made"], 125, "berth: update needs --memory, --cpus, --cpu-shares or --pids-limit\n"),
                (["update", "--memory", "1m", "made"], 125, "berth: --memory 1m is below the smallest limit, 6m\n"),
                (["update", "--memory", "lots", "made"], 125,
                 "berth: --memory lots is not a size: give a number with b, k, m or g (e.g. 64m)\n"),
                (["update", "--cpus", "0", "made"], 125, "berth: --cpus must be a number of cores from 0.01 to 1024\n"),
                (["update", "--pids-limit", "0", "made"], 125, "berth: --pids-limit must be from 1 to 4194304\n"),
                (["update", "--pids-limit", "5"], 125, "berth: update needs at least one container name or id\n"),
                (["update", "--pids-limit", "5", "ghost"], 1, "berth: no such container: ghost\n"),
            ]
            for (arguments, status, message) in cases {
                let r = try root.berth(arguments)
                #expect(r.status == status && r.stderr == message, "\(arguments): \(r.status) \(r.stderr)")
            }
            #expect(try hostConfig(root, "made")["PidsLimit"] as? Int == 0)
        }
    }

    @Suite("InfoCgroups")
    struct InfoCgroups {
        let fixture = Fixture.shared

        @Test("info's cgroup version and controllers are the host's")
        func cgroupFacts() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let r = try root.berth(["info", "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            let info = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let hybrid = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.controllers")
            #expect(info["CgroupVersion"] as? String == (Host.isCgroupV2 ? "2" : "1"))
            #expect(info["CgroupLayout"] as? String == (Host.isCgroupV2 ? "v2" : hybrid ? "hybrid" : "v1"))
            let controllers = try #require(info["CgroupControllers"] as? [[String: Any]])
            #expect(controllers.compactMap { $0["Name"] as? String } == ["memory", "cpu", "pids", "freezer", "devices"])
            for controller in controllers {
                let name = controller["Name"] as? String ?? ""
                // What the host has, read here the way the kernel shows it.
                let present = Host.isCgroupV2
                    ? (["freezer", "devices"].contains(name)
                        || (Kernel.read("/sys/fs/cgroup/cgroup.controllers") ?? "").split(separator: " ")
                            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.contains(name))
                    : !Kernel.hierarchies.filter { $0.split(separator: "/").last?.split(separator: ",").contains(Substring(name)) == true }
                        .isEmpty
                #expect(controller["Available"] as? Bool == present, "\(controller)")
                #expect((controller["Reason"] != nil) == !present, "\(controller)")
            }
            let text = try root.berth(["info"])
            #expect(text.stdout.contains("Cgroup Version:      \(info["CgroupLayout"] as? String ?? "-")\n"), "\(text.stdout)")
        }
    }
}
