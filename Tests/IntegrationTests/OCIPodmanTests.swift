import Foundation
import Testing

extension Containers {
    /// podman (Debian's 4.3) with `--runtime` pointing at the built berth-oci: a real caller
    /// through conmon. Everything podman keeps (storage, run state, its tmpdir, network
    /// configuration) is under the test's own directory, and the image is the fixture's busybox
    /// root imported there; `system reset` and the directory's removal take it all away.
    @Suite("OCIPodman", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/podman"), "needs podman"))
    struct OCIPodman {
        let fixture = Fixture.shared

        /// podman with its own directories, berth-oci as its runtime, cgroupfs, and the limits
        /// root may set here (it lacks CAP_SYS_RESOURCE: podman's default nofile is higher).
        final class Podman {
            let directory: String
            let global: [String]
            static let image = "localhost/busybox:oci-test"
            static let limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none"]

            init(_ fixture: Fixture) throws {
                if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
                directory = try fixture.makeStateRoot()
                let berthOCI = URL(fileURLWithPath: fixture.berth).deletingLastPathComponent().appendingPathComponent("berth-oci").path
                // The runtime's state root is the test's own through a wrapper, not --runtime-flag:
                // podman's cleanup after a container's end (`podman container cleanup`, run by conmon)
                // calls the runtime without the flag, so its `delete` would look in the default root,
                // find nothing, and leave the container's cgroup behind.
                let runtime = directory + "/berth-oci"
                try "#!/bin/sh\nexec '\(berthOCI)' --root '\(directory)/oci-root' \"$@\"\n"
                    .write(toFile: runtime, atomically: true, encoding: .utf8)
                chmod(runtime, 0o755)
                global = ["--root", directory + "/storage", "--runroot", directory + "/run", "--tmpdir", directory + "/tmp",
                          "--network-config-dir", directory + "/net", "--cgroup-manager", "cgroupfs", "--runtime", runtime,
                          "--storage-driver", "vfs", "--events-backend", "file"]
                let tar = directory + "/busybox.tar"
                let packed = try Command.run("/bin/tar", ["-C", fixture.rootfs, "-cf", tar, "."])
                guard packed.status == 0 else { throw FixtureError(message: "tar failed: \(packed.stderr)") }
                let imported = try run(["import", tar, Self.image])
                guard imported.status == 0 else { throw FixtureError(message: "podman import failed: \(imported.stderr)") }
            }

            /// podman's output goes to files, and it is reaped with waitpid (`FileCommand`): conmon,
            /// which outlives a `run -d`, keeps what it inherits open, so neither a pipe nor the
            /// channel through which Foundation's `Process` learns of an exit would ever end.
            func run(_ args: [String], timeout: Double = 60) throws -> Command.Result {
                try FileCommand.run("/usr/bin/podman", global + args, timeout: timeout)
            }

            func removeAll() {
                _ = try? run(["rm", "--all", "--force", "--time", "0"])
                _ = try? run(["system", "reset", "--force"])
                try? FileManager.default.removeItem(atPath: directory)
            }
        }

        @Test("podman run --rm through berth-oci: output, exit status, hostname")
        func runRemove() throws {
            let podman = try Podman(fixture)
            defer { podman.removeAll() }
            let cidFile = podman.directory + "/cid"
            let ran = try podman.run(["run", "--rm", "--cidfile", cidFile] + Podman.limits
                                     + [Podman.image, "sh", "-c", "echo hi from $(hostname); exit 3"])
            #expect(ran.status == 3, "\(ran.stderr)")
            #expect(ran.stdout.contains("hi from "))
            let left = try podman.run(["ps", "--all", "--quiet"])
            #expect(left.output.isEmpty, "run --rm left \(left.output)")
            // podman's cgroupfs manager puts the container at libpod_parent/libpod-ID; berth-oci's
            // delete removes it.
            let id = try String(contentsOfFile: cidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let cgroup = (Host.isCgroupV2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory") + "/libpod_parent/libpod-" + id
            #expect(!id.isEmpty && eventually { !FileManager.default.fileExists(atPath: cgroup) }, "\(cgroup) was left behind")
        }

        @Test("podman run -d, exec, stop and rm through berth-oci; the memory limit is in the container's cgroup")
        func detachedLifecycle() throws {
            let podman = try Podman(fixture)
            defer { podman.removeAll() }
            let started = try podman.run(["run", "-d", "--name", "d1", "--memory", "48m"] + Podman.limits
                                         + [Podman.image, "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
            #expect(started.status == 0, "\(started.stderr)")
            let id = started.output
            let inspect = try podman.run(["inspect", "--format", "{{.State.Status}} {{.State.Pid}}", "d1"])
            #expect(inspect.output.hasPrefix("running"), "\(inspect.output) \(inspect.stderr)")
            let pid = Int32(inspect.output.split(separator: " ").last ?? "") ?? 0
            let cgroup = (Kernel.read("/proc/\(pid)/cgroup") ?? "").split(separator: "\n")
                .first { $0.contains(":memory:") || $0.hasPrefix("0::") }
                .map { String($0.split(separator: ":", maxSplits: 2).last ?? "") } ?? ""
            let limitFile = Host.isCgroupV2 ? "/sys/fs/cgroup\(cgroup)/memory.max" : "/sys/fs/cgroup/memory\(cgroup)/memory.limit_in_bytes"
            #expect(Kernel.read(limitFile)?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(48 << 20)", "\(limitFile)")
            let exec = try podman.run(["exec", "d1", "sh", "-c", "echo exec in $(hostname)"])
            #expect(exec.status == 0, "\(exec.stderr)")
            #expect(exec.output == "exec in \(id.prefix(12))")
            let stopped = try podman.run(["stop", "--time", "5", "d1"])
            #expect(stopped.status == 0, "\(stopped.stderr)")
            #expect(try podman.run(["inspect", "--format", "{{.State.Status}}", "d1"]).output == "exited")
            #expect(try podman.run(["rm", "d1"]).status == 0)
            #expect(!Kernel.isAlive(pid))
            let cgroupDirectory = (limitFile as NSString).deletingLastPathComponent
            #expect(eventually { !FileManager.default.fileExists(atPath: cgroupDirectory) }, "\(cgroupDirectory) was left behind")
        }
    }
}
