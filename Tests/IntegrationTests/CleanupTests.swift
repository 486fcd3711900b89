import Foundation
import Testing

extension Containers {
    /// Nothing a container had stays behind: not after many runs, not after berth is killed.
    @Suite("Cleanup")
    struct Cleanup {
        let fixture = Fixture.shared

        private func leftoverCgroups() -> [String] {
            let bases = Host.isCgroupV2
                ? ["/sys/fs/cgroup"] : ["memory", "cpu", "pids", "freezer", "devices"].map { "/sys/fs/cgroup/" + $0 }
            return bases.flatMap { base -> [String] in
                let dir = base + "/" + fixture.cgroupParent
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                return entries.filter { $0.count == 64 }.map { dir + "/" + $0 }
            }
        }

        @Test("no mounts, cgroups or records remain after many runs")
        func manyRuns() throws {
            let runs = Host.inVM ? 40 : 200
            let state = try fixture.makeStateRoot()
            // Only the mounts that name this test's root or state: other suites run at once and
            // mount and unmount their own, which a count of every mount would see.
            func mounts() throws -> [Substring] {
                try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n")
                    .filter { $0.contains(fixture.rootfs) || $0.contains(state) }
            }
            let mountsBefore = try mounts()
            for i in 0..<runs {
                let r = try fixture.run(["--memory", "32m", "--pids-limit", "16"], ["/bin/true"], root: state)
                #expect(r.status == 0, "run \(i): \(r.stderr)")
                if r.status != 0 { break }
            }
            let mountsAfter = try mounts()
            #expect(mountsAfter == mountsBefore, "\(mountsAfter)")
            #expect(leftoverCgroups().isEmpty)
            let records = (try? FileManager.default.contentsOfDirectory(atPath: state + "/run/containers")) ?? []
            #expect(records.isEmpty)
        }

        @Test("a container that fails to start leaves no cgroup and no record")
        func failedStarts() throws {
            let state = try fixture.makeStateRoot()
            for command in [["/bin/nope"], ["/etc/passwd"]] {
                let r = try fixture.run(["--memory", "32m"], command, root: state)
                #expect(r.status == 127 || r.status == 126)
            }
            let badUser = try fixture.run(["-u", "ghost"], ["/bin/true"], root: state)
            #expect(badUser.status == 125)
            #expect(leftoverCgroups().isEmpty)
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: state + "/run/containers")) ?? []).isEmpty)
        }

        @Test("berth killed by SIGKILL: its container dies, and the next berth command removes the rest")
        func crashRecovery() throws {
            let state = try fixture.makeStateRoot()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: fixture.berth)
            process.arguments = ["--root", state, "run", "--network", "none", "--cgroup-parent", fixture.cgroupParent,
                                 "--rootfs", fixture.rootfs, "--memory", "32m", "--", "/bin/payload", "trap"]
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = FileHandle.nullDevice
            try process.run()
            _ = out.fileHandleForReading.availableData   // "ready": the container runs
            #expect(leftoverCgroups().count >= 1)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            // PDEATHSIG took the container with berth: no payload process survives.
            #expect(try eventually {
                try Command.run("/bin/sh", ["-c", "ps -eo args | grep -c '^/bin/payload trap' || true"]).output == "0"
            })
            #expect(!((try? FileManager.default.contentsOfDirectory(atPath: state + "/run/containers")) ?? []).isEmpty)

            // The next command (any run) cleans the crashed container's cgroup and record.
            let next = try fixture.run([], ["/bin/true"], root: state)
            #expect(next.status == 0)
            #expect(leftoverCgroups().isEmpty)
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: state + "/run/containers")) ?? []).isEmpty)
        }
    }
}
